"""« Demande de régularisation »: the single request for missing documents."""

from __future__ import annotations

from datetime import datetime

from domain.fr import datetime_fr
from letters.layout import Letter, LetterContext

TITLE = "Demande de régularisation"


def regularisation_request(ctx: LetterContext, missing: list[str], deadline: datetime, note: str = "") -> bytes:
    """`missing`: the categories' labels, as the candidate's space shows them."""
    letter = Letter(ctx, TITLE)
    letter.salutation()
    letter.paragraph(
        "Votre dossier d'inscription a été examiné par le service instructeur. Il manque une ou "
        "plusieurs pièces permettant de vérifier la recevabilité de votre candidature :"
    )
    letter.bullets(missing)
    if note.strip():
        letter.paragraph(f"Précisions du service : {note.strip()}")
    letter.paragraph(
        "Merci de transmettre ces pièces depuis votre espace sécurisé (PDF, GIF, JPEG ou PNG, "
        f"10 Mo maximum par document) au plus tard le {datetime_fr(deadline, ctx.time_zone)}.",
        bold=True,
    )
    letter.paragraph(
        "Cette demande est la seule relance qui vous sera adressée. Passé ce délai, votre dossier "
        "sera instruit en l'état et pourra être rejeté."
    )
    letter.signature()
    return letter.render()
