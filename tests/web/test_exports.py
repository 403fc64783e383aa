"""Lists as files: what a spreadsheet would run as a formula is written as plain text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from web.exports import Cell, safe, to_csv, to_xlsx


@pytest.mark.parametrize("text", ["=1+2", "+33 6 12", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_cell_a_spreadsheet_would_evaluate_becomes_text(text: str) -> None:
    assert safe(text) == "'" + text


@pytest.mark.parametrize("value", ["Le Goff", "Œhlenschläger", "", 12, 1.5, None, datetime(2026, 1, 1, tzinfo=UTC)])
def test_other_cells_are_kept_as_they_are(value) -> None:
    assert safe(value) == value


def test_csv_and_xlsx_carry_the_same_cells_neutralised() -> None:
    header = ["Nom", "Dossiers"]
    rows: list[list[Cell]] = [['=HYPERLINK("http://x")', 3], ["Nguyễn", 0]]
    text = to_csv(header, rows).decode("utf-8")
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";")) == [
        ["Nom", "Dossiers"],
        ['\'=HYPERLINK("http://x")', "3"],
        ["Nguyễn", "0"],
    ]
    sheet = load_workbook(io.BytesIO(to_xlsx("Liste", header, rows))).active
    assert sheet is not None and sheet.title == "Liste"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["Nom", "Dossiers"],
        ['\'=HYPERLINK("http://x")', 3],
        ["Nguyễn", 0],
    ]
    assert sheet["A2"].data_type == "s"  # text, not a formula
