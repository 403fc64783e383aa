"""Staff lists as files: CSV (for any tool) and XLSX (opened as is by a spreadsheet), both made
from the same header and rows.

Formula injection: a spreadsheet runs a cell that starts with « = », « + », « - », « @ » (or a
tab or carriage return before one) as a formula, and a candidate chooses their own name. Such a
text cell gets a leading apostrophe, the spreadsheets' own sign for « text, not a formula »
(OWASP's advice for CSV injection); numbers and dates stay typed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, status
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

Cell = str | int | float | date | datetime | None

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def safe(value: Cell) -> Cell:
    """A text cell that a spreadsheet would run as a formula, made plain text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export_format(extension: str) -> Format:
    try:
        return Format(extension)
    except ValueError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Format d'export inconnu : csv ou xlsx.") from None


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with a byte-order mark and « ; » between fields: what a French spreadsheet opens
    with accents and columns right."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe(h) for h in header])
    for row in rows:
        writer.writerow([_csv_text(safe(v)) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_text(value: Cell) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else value


def to_xlsx(sheet_title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = sheet_title[:31]  # the format's limit
    sheet.append([safe(h) for h in header])
    widths = [len(h) for h in header]
    for row in rows:
        cells = [_xlsx_value(safe(v)) for v in row]
        sheet.append(cells)
        widths = [max(w, min(60, len(str(c or "")))) for w, c in zip(widths, cells, strict=False)]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width + 2
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(value: Cell) -> Cell:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # XLSX has no time zones: callers give local instants
    return value  # a text starting with "=" would be written as a formula: `safe` came first


def download(fmt: Format, name: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Response:
    """The list as a file to download, `name` without extension."""
    rows = list(rows)
    if fmt is Format.CSV:
        body, media = to_csv(header, rows), "text/csv; charset=utf-8"
    else:
        body = to_xlsx(name, header, rows)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = f"{name}.{fmt.value}"
    return Response(
        body,
        media_type=media,
        headers={
            "content-disposition": f'attachment; filename="{filename.encode("ascii", "replace").decode()}"; '
            f"filename*=UTF-8''{quote(filename)}",
            "cache-control": "private, no-store",
            "x-content-type-options": "nosniff",
        },
    )
