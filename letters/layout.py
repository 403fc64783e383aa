"""The centre's letter layout: letterhead, addressee, date, subject, body, signature, footer.

Text is set in the embedded Unicode font of `letters.fonts`, so names print exactly as typed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from fpdf import FPDF

from domain.dossier import Dossier
from domain.fr import date_fr
from letters.fonts import FAMILY, embed


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
        embed(self)
        self.ctx = ctx
        self.letter_title = title
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(True, margin=22)
        self.set_title(f"{title} — dossier n° {ctx.dossier_number}")
        self.set_author(ctx.organiser)
        self.set_subject(ctx.exam_line)
        self.set_creator("inscriptions")
        self.add_page()
        self._letterhead()

    # ------------------------------------------------------------------ page furniture
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FAMILY, size=8)
        self.set_text_color(90)
        self.cell(
            0,
            5,
            f"{self.ctx.organiser} — {self.letter_title} — "
            f"dossier n° {self.ctx.dossier_number} — page {self.page_no()}/{{nb}}",
            align="C",
        )
        self.set_text_color(0)

    def _letterhead(self) -> None:
        ctx = self.ctx
        self.set_font(FAMILY, "B", 13)
        self.cell(0, 7, ctx.organiser, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FAMILY, size=9)
        self.cell(0, 5, "Service concours et examens professionnels", new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 5, f"Dossier n° {ctx.dossier_number}", new_x="LMARGIN", new_y="NEXT")
        # Addressee block on the right, as a window envelope expects it.
        self.set_xy(115, 40)
        self.set_font(FAMILY, size=10)
        person = ctx.addressee
        for line in [f"{person.civility} {person.full_name}", *person.lines]:
            self.set_x(115)
            self.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
        self.set_y(max(self.get_y() + 8, 75))
        self.cell(0, 5, f"Le {ctx.date_fr(ctx.issued_at)}", align="R", new_x="LMARGIN", new_y="NEXT")
        self.ln(6)
        self.set_font(FAMILY, "B", 14)
        self.multi_cell(0, 8, self.letter_title.upper(), align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_font(FAMILY, size=10)
        self.multi_cell(0, 5, ctx.exam_line, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(6)

    # ------------------------------------------------------------------ content
    def salutation(self) -> None:
        self.paragraph(f"{self.ctx.addressee.civility},")

    def paragraph(self, text: str, *, bold: bool = False, size: int = 11) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        self.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def bullets(self, items: Iterable[str]) -> None:
        self.set_font(FAMILY, size=11)
        for item in items:
            self.set_x(self.l_margin + 6)
            self.multi_cell(0, 6, f"- {item}", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def fields(self, rows: Iterable[tuple[str, str]]) -> None:
        """Label / value lines (a convocation's date, venue...)."""
        for label, value in rows:
            self.set_font(FAMILY, "B", 11)
            self.cell(45, 7, label)
            self.set_font(FAMILY, size=11)
            self.multi_cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def two_column_table(self, header: tuple[str, str], rows: Iterable[tuple[str, str]]) -> None:
        self.set_font(FAMILY, "B", 11)
        self.set_fill_color(230)
        self.cell(120, 8, header[0], border=1, fill=True)
        self.cell(0, 8, header[1], border=1, fill=True, align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_font(FAMILY, size=11)
        for left, right in rows:
            self.cell(120, 8, left, border=1)
            self.cell(0, 8, right, border=1, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(4)

    def signature(self) -> None:
        self.ln(6)
        self.set_font(FAMILY, size=11)
        self.set_x(115)
        self.multi_cell(
            0,
            6,
            f"Pour le Président du {self.ctx.organiser},\nLe service concours",
            new_x="LMARGIN",
            new_y="NEXT",
        )

    def image_page(self, title: str, data: bytes) -> None:
        """A page holding one picture (an access map), scaled to the printable width."""
        self.add_page()
        self.set_font(FAMILY, "B", 13)
        self.cell(0, 8, title, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(4)
        self.image(io.BytesIO(data), x=self.l_margin, w=self.epw, keep_aspect_ratio=True, h=self.eph - 20)

    def render(self) -> bytes:
        return bytes(self.output())
