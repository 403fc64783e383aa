"""Read a jury's results file: one row per candidate, bad rows reported with their line.

The file is what a spreadsheet exports: semicolon-, comma- or tab-separated, UTF-8 (with or
without BOM) or Windows-1252. Columns, in any order, headers matched without case or accents:
- « dossier » (or « n° de dossier », « numéro de dossier ») — required;
- « résultat » — admissible, non admissible, admis(e), non admis(e) — required;
- « présent » — oui/non: an attendance certificate is issued for « oui »;
- any other column is a test, its cells marks out of 20 as `domain.marks.parse_mark` reads them
  (« 12,5 », « ABS » for absent), empty when not taken: the candidate gets a transcript.

Pure: bytes in, rows and issues out; the batch activity applies the rows.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from domain.exams import ExamResult
from domain.marks import Mark, MarkOutOfRange, UnreadableMark, parse_mark

MAX_ROWS = 50_000


class BadResultsFile(ValueError):
    """The file as a whole cannot be read (no header, missing column); French message."""


@dataclass
class ResultRow:
    line: int  # 1-based line in the file, as a spreadsheet shows it
    dossier_number: str
    result: ExamResult
    marks: list[Mark] = field(default_factory=list)
    present: bool | None = None


@dataclass
class RowIssue:
    line: int
    dossier_number: str
    message: str


@dataclass
class ResultsFile:
    items: list[ResultRow | RowIssue]  # one per data line, in file order

    @property
    def rows(self) -> list[ResultRow]:
        return [i for i in self.items if isinstance(i, ResultRow)]

    @property
    def issues(self) -> list[RowIssue]:
        return [i for i in self.items if isinstance(i, RowIssue)]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


_DOSSIER_HEADERS = {
    "dossier",
    "n de dossier",
    "no de dossier",
    "numero de dossier",
    "numero dossier",
    "n dossier",
    "identifiant",
}
_RESULT_HEADERS = {"resultat", "resultats", "decision"}
_PRESENT_HEADERS = {"present", "presente", "presence", "present e"}

_RESULTS = {
    "admissible": ExamResult.ADMISSIBLE,
    "non admissible": ExamResult.NOT_ADMISSIBLE,
    "admis": ExamResult.PASSED,
    "admise": ExamResult.PASSED,
    "admis e": ExamResult.PASSED,
    "non admis": ExamResult.FAILED,
    "non admise": ExamResult.FAILED,
    "non admis e": ExamResult.FAILED,
}
_YES = {"oui", "o", "x", "1", "yes", "present", "presente"}
_NO = {"non", "n", "0", "no", "absent", "absente", ""}


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_results(data: bytes) -> ResultsFile:
    text = decode(data)
    lines = text.splitlines()
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        raise BadResultsFile("Le fichier est vide.")
    delimiter = max(";,\t", key=lines[header_index].count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = list(reader)
    header = [_fold(h) for h in rows[header_index]]
    try:
        dossier_col = next(i for i, h in enumerate(header) if h in _DOSSIER_HEADERS)
        result_col = next(i for i, h in enumerate(header) if h in _RESULT_HEADERS)
    except StopIteration:
        raise BadResultsFile(
            "La première ligne doit nommer les colonnes, dont « dossier » et « résultat » "
            f"(colonnes lues : {', '.join(rows[header_index]) or 'aucune'})."
        ) from None
    present_col = next((i for i, h in enumerate(header) if h in _PRESENT_HEADERS), None)
    test_cols = [
        (i, rows[header_index][i].strip())
        for i, h in enumerate(header)
        if i not in (dossier_col, result_col, present_col) and h
    ]
    data_rows = [(n + 1, row) for n, row in enumerate(rows) if n > header_index and any(c.strip() for c in row)]
    if len(data_rows) > MAX_ROWS:
        raise BadResultsFile(f"Le fichier compte plus de {MAX_ROWS} lignes : découpez-le.")

    items: list[ResultRow | RowIssue] = []
    first_line_of: dict[str, int] = {}
    for line, row in data_rows:
        cells = row + [""] * (len(header) - len(row))
        number = cells[dossier_col].strip().upper()
        issue = _row_issue(cells, number, result_col, first_line_of)
        if issue:
            items.append(RowIssue(line, number, issue))
            continue
        marks, problem = _marks(cells, test_cols)
        present = _fold(cells[present_col]) if present_col is not None else ""
        if problem is None and present_col is not None and present not in _YES | _NO:
            problem = f"colonne « présent » : « {cells[present_col].strip()} » n'est ni oui ni non."
        if problem:
            items.append(RowIssue(line, number, problem))
            continue
        first_line_of[number] = line
        items.append(
            ResultRow(
                line=line,
                dossier_number=number,
                result=_RESULTS[_fold(cells[result_col])],
                marks=marks,
                present=(present in _YES) if present_col is not None else None,
            )
        )
    return ResultsFile(items)


def _row_issue(cells: list[str], number: str, result_col: int, first_line_of: dict[str, int]) -> str | None:
    if not number:
        return "n° de dossier manquant."
    if not re.fullmatch(r"[A-Z0-9\-]{1,32}", number):
        return f"n° de dossier invalide : « {number} »."
    if number in first_line_of:
        return f"dossier déjà présent ligne {first_line_of[number]} : une seule ligne par candidat."
    raw = cells[result_col].strip()
    if _fold(raw) not in _RESULTS:
        return (
            f"résultat « {raw} » inconnu (attendu : admissible, non admissible, admis, non admis)."
            if raw
            else "résultat manquant."
        )
    return None


def _marks(cells: list[str], test_cols: list[tuple[int, str]]) -> tuple[list[Mark], str | None]:
    marks: list[Mark] = []
    for col, test in test_cols:
        raw = cells[col].strip() if col < len(cells) else ""
        if not raw:
            continue
        try:
            marks.append(Mark(test, parse_mark(raw)))
        except UnreadableMark:
            return [], f"note « {raw} » illisible pour « {test} »."
        except MarkOutOfRange:
            return [], f"note {raw} hors de l'intervalle 0 à 20 pour « {test} »."
    return marks, None
