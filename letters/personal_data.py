"""The readable copy of a candidate's data export (`domain.personal_data`): one PDF, French labels,
in the embedded Unicode font (`letters.fonts`), so names print as typed.

It prints exactly the sections and fields of the JSON export, each value the French way.
"""

from __future__ import annotations

from domain.fr import datetime_fr
from domain.personal_data import Item, PersonalDataExport
from letters.dossier_document import DossierDocument
from letters.fonts import FAMILY

TITLE = "Mes données personnelles"


class PersonalDataDocument(DossierDocument):
    def __init__(self, export: PersonalDataExport) -> None:
        super().__init__(TITLE, export.dossier_number, export.organiser)
        self.export = export

    def _heading(self, text: str) -> None:
        self.ln(2)
        self.set_font(FAMILY, "B", 12)
        self.set_fill_color(230)
        self.cell(0, 8, text, fill=True, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def _items(self, items: list[Item]) -> None:
        for item in items:
            self.set_font(FAMILY, "B", 10)
            self.cell(62, 6, item.label)
            self.set_font(FAMILY, size=10)
            self.multi_cell(0, 6, self.export.readable(item.value), new_x="LMARGIN", new_y="NEXT")

    def render(self) -> bytes:
        export = self.export
        self.add_page()
        self.set_font(FAMILY, "B", 15)
        self.cell(0, 9, TITLE, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FAMILY, size=10)
        self.multi_cell(
            0,
            5,
            f"Ensemble des données que {export.organiser} détient sur vous pour le dossier "
            f"n° {export.dossier_number}, au {datetime_fr(export.exported_at, export.time_zone)}. "
            "Le même contenu existe au format JSON dans votre espace (« Mes données »).",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        for section in export.sections:
            self._heading(section.title)
            if section.records is None:
                self._items(section.items)
            elif not section.records:
                self.set_font(FAMILY, size=10)
                self.cell(0, 6, section.empty, new_x="LMARGIN", new_y="NEXT")
            else:
                for record in section.records:
                    self._items(record)
                    self.ln(2)
        return bytes(self.output())


def personal_data_pdf(export: PersonalDataExport) -> bytes:
    return PersonalDataDocument(export).render()
