"""« Courrier de non admission à concourir »: a rejection, with its reasons."""

from __future__ import annotations

from letters.layout import Letter, LetterContext

TITLE = "Courrier de non admission à concourir"


def rejection_letter(ctx: LetterContext, status_label: str, reasons: str) -> bytes:
    """`status_label`: « Dossier rejeté » or « Dossier non conforme »."""
    letter = Letter(ctx, TITLE)
    letter.salutation()
    letter.paragraph(
        "Au vu des éléments fournis, nous avons le regret de vous informer que vous ne remplissez "
        f"pas les conditions requises pour participer au concours ou à l'examen ci-dessus. "
        f"Votre dossier porte la mention « {status_label} »."
    )
    letter.paragraph("Motif(s) :", bold=True)
    letter.bullets(line.strip() for line in reasons.splitlines() if line.strip())
    letter.paragraph(
        f"Cette décision peut faire l'objet d'un recours gracieux auprès du Président du "
        f"{ctx.organiser} ou d'un recours contentieux devant le tribunal administratif compétent "
        "dans un délai de deux mois à compter de sa notification."
    )
    letter.signature()
    return letter.render()
