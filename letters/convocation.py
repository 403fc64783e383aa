"""« Convocation » to one exam date, with the venue's access map on a second page."""

from __future__ import annotations

from domain.campaign import ExamDate, ExamKind
from domain.fr import datetime_fr
from letters.layout import Letter, LetterContext

TITLE = "Convocation"

_KIND = {
    ExamKind.WRITTEN: "épreuves écrites d'admissibilité",
    ExamKind.ORAL: "épreuves orales d'admission",
}


def convocation(
    ctx: LetterContext, exam: ExamDate, access_map: bytes | None = None, accommodations: list[str] | None = None
) -> bytes:
    """`access_map`: a PNG, JPEG or GIF picture of the venue, printed on its own page;
    `accommodations`: what staff granted the candidate (labels), shown to the exam-day team."""
    letter = Letter(ctx, f"{TITLE} — {exam.label}")
    letter.salutation()
    letter.paragraph(f"Vous êtes convoqué(e) aux {_KIND[exam.kind]} du concours ou de l'examen ci-dessus :")
    letter.fields(
        [
            ("Candidat(e)", f"{ctx.addressee.civility} {ctx.addressee.full_name}"),
            ("N° de dossier", ctx.dossier_number),
            ("Épreuve", exam.label),
            ("Date et heure", datetime_fr(exam.starts_at, ctx.time_zone)),
            ("Lieu", exam.venue),
        ]
    )
    if accommodations:
        letter.paragraph("Aménagements d'épreuves accordés (à présenter à l'accueil de la salle) :", bold=True)
        letter.bullets(accommodations)
    letter.paragraph(
        "Présentez-vous 30 minutes avant le début de l'épreuve, muni(e) de cette convocation "
        "imprimée et d'une pièce d'identité en cours de validité avec photographie. Aucun "
        "candidat ne sera admis après l'ouverture des enveloppes de sujets.",
        bold=True,
    )
    letter.paragraph(
        "Cette convocation n'est pas envoyée par courrier : elle est disponible uniquement dans "
        "votre espace sécurisé. Le plan d'accès figure en page suivante."
        if access_map
        else "Cette convocation n'est pas envoyée par courrier : elle est disponible uniquement "
        "dans votre espace sécurisé."
    )
    letter.signature()
    if access_map:
        letter.image_page(f"Plan d'accès — {exam.venue}", access_map)
    return letter.render()
