"""The page furniture shared by the PDFs made for one dossier (registration form, personal-data
export): A4, French, the embedded Unicode font, the organiser's name at the top of each page and
« title — dossier n° … — page x/y » at its foot."""

from __future__ import annotations

from fpdf import FPDF

from letters.fonts import FAMILY, embed


class DossierDocument(FPDF):
    def __init__(self, title: str, dossier_number: str, organiser: str) -> None:
        super().__init__(format="A4")
        embed(self)
        self.document_title = title
        self.dossier_number = dossier_number
        self.organiser = organiser
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=20)
        self.set_lang("fr")
        self.set_title(f"{title} — dossier n° {dossier_number}")
        self.set_author(organiser)
        self.set_creator("inscriptions")

    def header(self) -> None:
        self.set_font(FAMILY, "B", 12)
        self.cell(0, 6, self.organiser, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FAMILY, size=9)
        self.cell(0, 5, "Service concours et examens professionnels", new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FAMILY, size=8)
        self.set_text_color(70)
        self.cell(
            0,
            5,
            f"{self.document_title} — dossier n° {self.dossier_number} — page {self.page_no()}/{{nb}}",
            align="C",
        )
        self.set_text_color(0)
