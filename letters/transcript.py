"""« Relevé de notes »: the marks of each test, out of 20."""

from __future__ import annotations

from domain.marks import Mark
from letters.layout import Letter, LetterContext

TITLE = "Relevé de notes"


def mark_fr(mark: float | None) -> str:
    if mark is None:
        return "Absent(e)"
    text = f"{mark:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{text} / 20"


def transcript(ctx: LetterContext, marks: list[Mark], result_label: str) -> bytes:
    letter = Letter(ctx, TITLE)
    letter.paragraph(f"{ctx.addressee.civility} {ctx.addressee.full_name} — dossier n° {ctx.dossier_number}")
    letter.two_column_table(("Épreuve", "Note"), [(m.test, mark_fr(m.mark)) for m in marks])
    letter.paragraph(f"Résultat : {result_label}", bold=True)
    letter.paragraph(
        "Les notes sont arrêtées par le jury ; elles ne peuvent être modifiées. Conservez ce relevé : "
        "il ne vous sera pas adressé par courrier."
    )
    letter.signature()
    return letter.render()
