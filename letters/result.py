"""« Courrier de résultat »: admissible / non admissible after the written tests, admis /
non admis after the orals."""

from __future__ import annotations

from domain.exams import ExamResult
from letters.layout import Letter, LetterContext

TITLE = "Courrier de résultat"

_TEXT = {
    ExamResult.ADMISSIBLE: (
        "Nous avons le plaisir de vous informer que le jury vous a déclaré(e) admissible.",
        (
            "Vous êtes convoqué(e) aux épreuves orales d'admission : votre convocation sera déposée "
            "dans votre espace sécurisé une quinzaine de jours avant les épreuves."
        ),
    ),
    ExamResult.NOT_ADMISSIBLE: (
        "Nous avons le regret de vous informer que le jury ne vous a pas déclaré(e) admissible.",
        "Votre relevé de notes est disponible dans votre espace sécurisé lorsqu'il a été établi.",
    ),
    ExamResult.PASSED: (
        "Nous avons le plaisir de vous informer que le jury vous a déclaré(e) admis(e).",
        (
            "Vous recevrez prochainement les informations relatives à votre inscription sur la liste "
            "d'aptitude et à sa durée de validité."
        ),
    ),
    ExamResult.FAILED: (
        "Nous avons le regret de vous informer que le jury ne vous a pas déclaré(e) admis(e).",
        "Votre relevé de notes est disponible dans votre espace sécurisé lorsqu'il a été établi.",
    ),
}

LABELS = {
    ExamResult.ADMISSIBLE: "Admissible",
    ExamResult.NOT_ADMISSIBLE: "Non admissible",
    ExamResult.PASSED: "Admis(e)",
    ExamResult.FAILED: "Non admis(e)",
}


def result_letter(ctx: LetterContext, result: ExamResult) -> bytes:
    letter = Letter(ctx, f"{TITLE} — {LABELS[result]}")
    letter.salutation()
    for text in _TEXT[result]:
        letter.paragraph(text)
    letter.paragraph("Nous vous prions d'agréer l'expression de nos salutations distinguées.")
    letter.signature()
    return letter.render()
