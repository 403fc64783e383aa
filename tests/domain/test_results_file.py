"""Reading a jury's results file: what spreadsheets export, and every bad row with its line."""

from __future__ import annotations

import pytest

from domain.exams import ExamResult
from domain.marks import Mark
from domain.results_file import BadResultsFile, ResultRow, RowIssue, parse_results


def test_a_french_spreadsheet_export_reads_row_by_row() -> None:
    data = (
        "\ufeffN° de dossier;Résultat;Présent(e);Note de synthèse;Oral\r\n"
        "red2027-00001;Admis(e);x;12,5;ABS\r\n"
        "\r\n"
        "RED2027-00002;non admise;non;;\r\n"
    )
    parsed = parse_results(data.encode("utf-8"))
    assert parsed.items == [
        ResultRow(2, "RED2027-00001", ExamResult.PASSED, [Mark("Note de synthèse", 12.5), Mark("Oral", None)], True),
        ResultRow(4, "RED2027-00002", ExamResult.FAILED, [], False),
    ]


def test_comma_separated_windows_1252_without_optional_columns() -> None:
    parsed = parse_results("dossier,résultat\nA-1,admissible\nA-2,NON ADMISSIBLE\n".encode("cp1252"))
    assert [(r.dossier_number, r.result, r.present) for r in parsed.rows] == [
        ("A-1", ExamResult.ADMISSIBLE, None),
        ("A-2", ExamResult.NOT_ADMISSIBLE, None),
    ]


def test_every_bad_row_is_reported_with_its_line_and_the_rest_still_reads() -> None:
    data = "\n".join(
        [
            "dossier;resultat;present;Ecrit",
            "A-1;admissible;oui;12",
            "A-2;;oui;12",
            ";admissible;oui;12",
            "A 3;admissible;oui;12",
            "A-4;admissible;peut-être;12",
            "A-5;admissible;oui;douze",
            "A-6;admissible;oui;-1",
            "A-1;non admissible;oui;3",
            "A-7;admis;oui;20",
        ]
    ).encode()
    parsed = parse_results(data)
    assert [r.dossier_number for r in parsed.rows] == ["A-1", "A-7"]
    assert [(i.line, i.message) for i in parsed.issues] == [
        (3, "résultat manquant."),
        (4, "n° de dossier manquant."),
        (5, "n° de dossier invalide : « A 3 »."),
        (6, "colonne « présent » : « peut-être » n'est ni oui ni non."),
        (7, "note « douze » illisible pour « Ecrit »."),
        (8, "note -1 hors de l'intervalle 0 à 20 pour « Ecrit »."),
        (9, "dossier déjà présent ligne 2 : une seule ligne par candidat."),
    ]
    assert all(isinstance(i, (ResultRow, RowIssue)) for i in parsed.items) and len(parsed.items) == 9


@pytest.mark.parametrize("data", [b"", b"\n\n", b"nom;note\nX;12\n"])
def test_a_file_without_its_columns_is_refused_as_a_whole(data: bytes) -> None:
    with pytest.raises(BadResultsFile):
        parse_results(data)
