"""The centre's letter layout: letterhead, addressee, date, subject, body, signature, footer.

Core PDF fonts (Helvetica) rather than an embedded TrueType font: a letter renders in about
10 ms instead of 150 (a TTF is parsed and subset for every document), which matters when a bulk
action prepares thousands of convocations, and the worker needs no font file installed. Their
Latin-1 repertoire covers French; the few typographic characters outside it are replaced by
plain equivalents (`latin1`), never dropped silently.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from fpdf import FPDF

from domain.dossier import Dossier
from domain.fr import date_fr

# Typographic characters French text uses that Latin-1 lacks.
_PLAIN = str.maketrans(
    {
        "œ": "oe",
        "Œ": "OE",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "—": "-",
        "–": "-",
        "…": "...",
        "€": "EUR",
        "\u202f": " ",
        "\u2009": " ",
        "\u2011": "-",
        "•": "-",
        # Letters of names that Unicode does not decompose into a base letter and an accent.
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "ı": "i",
        "Ħ": "H",
        "ħ": "h",
    }
)


def latin1(text: str) -> str:
    """`text` in the core fonts' repertoire: typographic marks made plain, other letters
    reduced to their base letter (a name in another alphabet keeps what can be kept)."""
    text = text.translate(_PLAIN)
    if all(ord(ch) < 256 for ch in text):
        return text
    out = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) < 256 and not unicodedata.combining(c))
        out.append(base or "?")
    return "".join(out)


@dataclass
class Addressee:
    civility: str
    full_name: str
    lines: list[str]  # postal address, one line each
    birth_date: date


@dataclass
class LetterContext:
    """What every letter of a dossier prints: who writes, to whom, about which exam."""

    organiser: str
    grade: str
    route: str
    speciality: str | None
    dossier_number: str
    addressee: Addressee
    time_zone: str
    issued_at: datetime

    @classmethod
    def of(cls, dossier: Dossier, now: datetime) -> LetterContext:
        candidate = dossier.registration.candidate
        address = candidate.address
        lines = [address.line1, address.line2, f"{address.postal_code} {address.city}"]
        if address.country and address.country.strip().lower() != "france":
            lines.append(address.country.upper())
        return cls(
            organiser=dossier.campaign.organiser,
            grade=dossier.campaign.grade,
            route=dossier.route.label,
            speciality=dossier.registration.speciality,
            dossier_number=dossier.dossier_number,
            addressee=Addressee(
                civility=candidate.civility,
                full_name=candidate.full_name,
                lines=[line for line in lines if line.strip()],
                birth_date=candidate.birth_date,
            ),
            time_zone=dossier.campaign.time_zone,
            issued_at=now,
        )

    @property
    def exam_line(self) -> str:
        speciality = f", spécialité {self.speciality}" if self.speciality else ""
        return f"{self.grade} — {self.route}{speciality}"

    def date_fr(self, instant: datetime) -> str:
        return date_fr(instant, self.time_zone)


class Letter(FPDF):
    """One A4 letter of the centre; callers add paragraphs then call `render`."""

    def __init__(self, ctx: LetterContext, title: str) -> None:
        super().__init__(format="A4")
        self.ctx = ctx
        self.letter_title = title
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(True, margin=22)
        self.set_title(latin1(f"{title} — dossier n° {ctx.dossier_number}"))
        self.set_author(latin1(ctx.organiser))
        self.set_subject(latin1(ctx.exam_line))
        self.set_creator("inscriptions")
        self.add_page()
        self._letterhead()

    # ------------------------------------------------------------------ page furniture
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.set_text_color(90)
        self.cell(
            0,
            5,
            latin1(
                f"{self.ctx.organiser} — {self.letter_title} — "
                f"dossier n° {self.ctx.dossier_number} — page {self.page_no()}/{{nb}}"
            ),
            align="C",
        )
        self.set_text_color(0)

    def _letterhead(self) -> None:
        ctx = self.ctx
        self.set_font("Helvetica", "B", 13)
        self.cell(0, 7, latin1(ctx.organiser), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", size=9)
        self.cell(0, 5, latin1("Service concours et examens professionnels"), new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 5, latin1(f"Dossier n° {ctx.dossier_number}"), new_x="LMARGIN", new_y="NEXT")
        # Addressee block on the right, as a window envelope expects it.
        self.set_xy(115, 40)
        self.set_font("Helvetica", size=10)
        person = ctx.addressee
        for line in [f"{person.civility} {person.full_name}", *person.lines]:
            self.set_x(115)
            self.cell(0, 5, latin1(line), new_x="LMARGIN", new_y="NEXT")
        self.set_y(max(self.get_y() + 8, 75))
        self.cell(0, 5, latin1(f"Le {ctx.date_fr(ctx.issued_at)}"), align="R", new_x="LMARGIN", new_y="NEXT")
        self.ln(6)
        self.set_font("Helvetica", "B", 14)
        self.multi_cell(0, 8, latin1(self.letter_title.upper()), align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", size=10)
        self.multi_cell(0, 5, latin1(ctx.exam_line), align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(6)

    # ------------------------------------------------------------------ content
    def salutation(self) -> None:
        self.paragraph(f"{self.ctx.addressee.civility},")

    def paragraph(self, text: str, *, bold: bool = False, size: int = 11) -> None:
        self.set_font("Helvetica", "B" if bold else "", size)
        self.multi_cell(0, 6, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def bullets(self, items: Iterable[str]) -> None:
        self.set_font("Helvetica", size=11)
        for item in items:
            self.set_x(self.l_margin + 6)
            self.multi_cell(0, 6, latin1(f"- {item}"), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def fields(self, rows: Iterable[tuple[str, str]]) -> None:
        """Label / value lines (a convocation's date, venue...)."""
        for label, value in rows:
            self.set_font("Helvetica", "B", 11)
            self.cell(45, 7, latin1(label))
            self.set_font("Helvetica", size=11)
            self.multi_cell(0, 7, latin1(value), new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def two_column_table(self, header: tuple[str, str], rows: Iterable[tuple[str, str]]) -> None:
        self.set_font("Helvetica", "B", 11)
        self.set_fill_color(230)
        self.cell(120, 8, latin1(header[0]), border=1, fill=True)
        self.cell(0, 8, latin1(header[1]), border=1, fill=True, align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", size=11)
        for left, right in rows:
            self.cell(120, 8, latin1(left), border=1)
            self.cell(0, 8, latin1(right), border=1, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(4)

    def signature(self) -> None:
        self.ln(6)
        self.set_font("Helvetica", size=11)
        self.set_x(115)
        self.multi_cell(
            0,
            6,
            latin1(f"Pour le Président du {self.ctx.organiser},\nLe service concours"),
            new_x="LMARGIN",
            new_y="NEXT",
        )

    def image_page(self, title: str, data: bytes) -> None:
        """A page holding one picture (an access map), scaled to the printable width."""
        self.add_page()
        self.set_font("Helvetica", "B", 13)
        self.cell(0, 8, latin1(title), align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(4)
        self.image(io.BytesIO(data), x=self.l_margin, w=self.epw, keep_aspect_ratio=True, h=self.eph - 20)

    def render(self) -> bytes:
        return bytes(self.output())
