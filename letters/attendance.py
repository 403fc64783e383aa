"""« Attestation de présence » at one exam date."""

from __future__ import annotations

from domain.campaign import ExamDate
from domain.fr import date_fr, datetime_fr
from letters.layout import Letter, LetterContext

TITLE = "Attestation de présence"


def attendance_certificate(ctx: LetterContext, exam: ExamDate) -> bytes:
    person = ctx.addressee
    birth = person.birth_date.strftime("%d/%m/%Y")
    letter = Letter(ctx, TITLE)
    letter.paragraph(
        f"Le {ctx.organiser} atteste que {person.civility} {person.full_name}, né(e) le {birth}, "
        f"dossier n° {ctx.dossier_number}, s'est présenté(e) à l'épreuve « {exam.label} » "
        f"le {datetime_fr(exam.starts_at, ctx.time_zone)}, à l'adresse suivante : {exam.venue}."
    )
    letter.paragraph(
        "Cette attestation est délivrée pour servir et valoir ce que de droit, notamment auprès "
        "de l'employeur de l'intéressé(e)."
    )
    letter.paragraph(f"Fait le {date_fr(ctx.issued_at, ctx.time_zone)}.")
    letter.signature()
    return letter.render()
