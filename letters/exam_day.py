"""Exam-day documents for one exam at its venue: the attendance sheet (« liste d'émargement »),
the door list, the list of accommodations for the exam-day team, and the CSV of convened
candidates.

Same embedded Unicode font as the letters (`letters.fonts`),
so names print as typed. Rows come sorted (`sort_key`) by the caller; these functions only
lay them out. Cells are drawn by hand rather than with fpdf2's `table()`: an exam of 10,000
candidates renders in seconds, not minutes.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from fpdf import FPDF

from domain.campaign import ExamDate
from domain.fr import date_fr, datetime_fr
from letters.fonts import FAMILY as FONT
from letters.fonts import embed


@dataclass
class Convened:
    """One convened candidate as the exam-day documents print them."""

    dossier_number: str
    civility: str
    last_name: str
    first_name: str
    birth_date: date
    route: str
    accommodations: list[str] = field(default_factory=list)


def sort_key(last_name: str, first_name: str) -> str:
    """Alphabetical order as a French list reads: accents, case, hyphens and spaces ignored
    (« Le Goff » with « LEGOFF », « Émile » with « Emile »)."""

    def fold(text: str) -> str:
        plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
        return "".join(c for c in plain.casefold() if c.isalnum())

    return f"{fold(last_name)}\x00{fold(first_name)}"


@dataclass
class Heading:
    organiser: str
    grade: str
    exam: ExamDate
    time_zone: str
    generated_at: datetime


class Sheet(FPDF):
    """An A4 list with the exam's heading on every page and a page counter."""

    def __init__(self, heading: Heading, title: str, orientation: str = "P") -> None:
        super().__init__(orientation=orientation, format="A4")
        embed(self)
        self.heading = heading
        self.sheet_title = title
        self.columns: list[tuple[str, float]] = []
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(False)
        self.set_title(f"{title} — {heading.exam.label}")
        self.set_author(heading.organiser)
        self.set_creator("inscriptions")

    def header(self) -> None:
        h = self.heading
        self.set_font(FONT, "B", 12)
        self.cell(0, 6, (f"{h.organiser} — {self.sheet_title}"), new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, size=9)
        self.cell(0, 5, (f"{h.grade} — {h.exam.label}"), new_x="LMARGIN", new_y="NEXT")
        self.cell(
            0,
            5,
            (f"{datetime_fr(h.exam.starts_at, h.time_zone)} — {h.exam.venue}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.ln(2)
        if self.columns:
            self._column_titles()

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, size=7)
        self.set_text_color(90)
        self.cell(
            0,
            4,
            (f"Édité le {date_fr(self.heading.generated_at, self.heading.time_zone)} — page {self.page_no()}/{{nb}}"),
            align="C",
        )
        self.set_text_color(0)

    def _column_titles(self) -> None:
        self.set_font(FONT, "B", 8)
        self.set_fill_color(230)
        for title, width in self.columns:
            self.cell(width, 7, (title), border=1, fill=True)
        self.ln()
        self.set_font(FONT, size=9)

    def row(self, values: Sequence[str], height: float, wrap: int | None = None) -> None:
        """One row; column `wrap` (if any) may run over several lines within `height`."""
        if self.get_y() + height > self.h - 14:
            self.add_page()
        y = self.get_y()
        x = self.l_margin
        for i, ((_, width), value) in enumerate(zip(self.columns, values, strict=True)):
            self.set_xy(x, y)
            if i == wrap:
                self.rect(x, y, width, height)
                if value:  # line breaking is the costly part: only where there is text
                    self.multi_cell(width, 4, (value), border=0)
            else:
                # A rectangle and a line of text: a tenth of `cell`'s cost, for 10,000 rows.
                self.rect(x, y, width, height)
                if value:
                    self.text(x + 1, y + height / 2 + self.font_size * 0.35, (value))
            x += width
        self.set_xy(self.l_margin, y + height)

    def lines(self, text: str, width: float) -> int:
        if not text or ("\n" not in text and self.get_string_width(text) < width - 2 * self.c_margin):
            return 1
        lines = self.multi_cell(width, 4, (text), dry_run=True, output="LINES")
        assert isinstance(lines, list)
        return len(lines)


def _name(c: Convened) -> str:
    return f"{c.last_name.upper()} {c.first_name}"


def attendance_sheet(heading: Heading, candidates: Sequence[Convened]) -> bytes:
    """« Liste d'émargement »: alphabetical, a signature column, the granted accommodations."""
    pdf = Sheet(heading, "Liste d'émargement", orientation="L")
    pdf.columns = [
        ("N°", 12),
        ("Nom et prénom", 70),
        ("Né(e) le", 24),
        ("N° de dossier", 32),
        ("Aménagements accordés", 82),
        ("Signature", 53),
    ]
    pdf.add_page()
    accommodation_width = pdf.columns[4][1]
    for i, c in enumerate(candidates, start=1):
        text = "; ".join(c.accommodations)
        height = max(11.0, 4 * pdf.lines(text, accommodation_width) + 2)
        pdf.row(
            [str(i), _name(c), c.birth_date.strftime("%d/%m/%Y"), c.dossier_number, text, ""],
            height,
            wrap=4,
        )
    pdf.ln(4)
    pdf.set_font(FONT, size=9)
    with_accommodations = sum(1 for c in candidates if c.accommodations)
    pdf.cell(
        0,
        5,
        (
            f"{len(candidates)} candidat(s) convoqué(s), dont {with_accommodations} avec aménagements. "
            "Présent(e)s : ........   Absent(e)s : ........   Signature du responsable de salle :"
        ),
    )
    return bytes(pdf.output())


DOOR_ROWS = 40  # names per door-list page, in large type: what a door can show


def door_list(heading: Heading, candidates: Sequence[Convened]) -> bytes:
    """The list posted at the door: names only (no birth date on a public wall), alphabetical,
    each page headed with its range of names so candidates find their page."""
    pdf = Sheet(heading, "Liste de porte")
    pdf.columns = [("N°", 16), ("Nom et prénom", 120), ("N° de dossier", 50)]
    for start in range(0, max(len(candidates), 1), DOOR_ROWS):
        page = candidates[start : start + DOOR_ROWS]
        saved, pdf.columns = pdf.columns, []  # the range line goes above the column titles
        pdf.add_page()
        pdf.columns = saved
        if page:
            pdf.set_font(FONT, "B", 13)
            span = f"De {page[0].last_name.upper()} à {page[-1].last_name.upper()}"
            pdf.cell(0, 8, (span), new_x="LMARGIN", new_y="NEXT")
        pdf._column_titles()
        pdf.set_font(FONT, size=11)
        for i, c in enumerate(page, start=start + 1):
            pdf.row([str(i), _name(c), c.dossier_number], 6)
    return bytes(pdf.output())


def accommodations_list(heading: Heading, candidates: Sequence[Convened]) -> bytes:
    """For the exam-day team: only the candidates with accommodations, and what they were granted."""
    pdf = Sheet(heading, "Aménagements d'épreuves accordés")
    pdf.columns = [("Nom et prénom", 62), ("N° de dossier", 32), ("Aménagements accordés", 92)]
    pdf.add_page()
    concerned = [c for c in candidates if c.accommodations]
    if not concerned:
        pdf.set_font(FONT, size=10)
        pdf.cell(0, 8, ("Aucun candidat convoqué à cette épreuve ne bénéficie d'aménagements."))
    for c in concerned:
        text = "\n".join(c.accommodations)
        height = max(7.0, 4 * pdf.lines(text, 92) + 2)
        pdf.row([_name(c), c.dossier_number, text], height, wrap=2)
    return bytes(pdf.output())


CSV_HEADER = [
    "numero_dossier",
    "civilite",
    "nom",
    "prenom",
    "date_naissance",
    "voie",
    "epreuve",
    "date_epreuve",
    "lieu",
    "amenagements",
]


def _cell(value: str) -> str:
    """A spreadsheet must not run what a candidate typed: a leading =, +, - or @ is quoted."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def convened_csv(heading: Heading, candidates: Sequence[Convened]) -> bytes:
    """The convened candidates, alphabetical; UTF-8 with a BOM and semicolons, as French
    spreadsheets open it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    exam = heading.exam
    when = datetime_fr(exam.starts_at, heading.time_zone)
    for c in candidates:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    c.dossier_number,
                    c.civility,
                    c.last_name,
                    c.first_name,
                    c.birth_date.isoformat(),
                    c.route,
                    exam.label,
                    when,
                    exam.venue,
                    " | ".join(c.accommodations),
                )
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
