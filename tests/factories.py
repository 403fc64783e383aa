"""Small builders for test data: campaigns, pre-registration forms, dossier mails."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from domain.campaign import Campaign, DocumentCategory, ExamDate, ExamKind, Route
from domain.mail import Mail, MailTemplate

DIPLOMA_CATEGORIES = [
    DocumentCategory("diplome", "Diplôme(s) requis", 3),
    DocumentCategory("derogation", "OU Pièce(s) relative(s) à une dérogation de diplôme", 1),
    DocumentCategory("equivalence", "OU Pièce(s) relative(s) à une équivalence de diplôme", 1),
    DocumentCategory("autre", "Toute(s) autre(s) pièce(s) complémentaire(s)", 1),
    DocumentCategory("formulaire", "Formulaire d'inscription daté et signé", 1),
]


def exam_of(c: Campaign, code: str) -> ExamDate:
    """The campaign's exam with this code, which the test expects to exist."""
    exam = c.exam(code)
    assert exam is not None, f"no exam {code!r} in campaign {c.id}"
    return exam


def campaign(
    *,
    deadline_in: timedelta = timedelta(days=20),
    grace: timedelta = timedelta(days=5),
    now: datetime | None = None,
    exams: list[ExamDate] | None = None,
    reminders: list[timedelta] | None = None,
    grade: str | None = None,
    # Tests on the dev server run in real time: a missed deadline closes 2 s after it (the
    # product's default is 5 minutes); the receipt-time tests set their own.
    receipt_delay: timedelta = timedelta(seconds=2),
    **overrides,
) -> Campaign:
    now = now or datetime.now(UTC)
    deadline = now + deadline_in
    c = Campaign(
        id=f"t{uuid.uuid4().hex[:8]}",
        grade=grade or f"Rédacteur territorial {uuid.uuid4().hex[:4]}",
        organiser="CDG 56",
        time_zone="Europe/Paris",
        holiday_zone="metropole",
        registration_opens_at=now - timedelta(days=30),
        registration_closes_at=min(deadline, now + timedelta(days=10)),
        validation_deadline=deadline,
        upload_grace=grace,
        routes=[
            Route("externe", "Concours externe", DIPLOMA_CATEGORIES),
            Route("interne", "Concours interne", [DocumentCategory("etats", "État des services", 2)]),
        ],
        exams=exams
        if exams is not None
        else [
            ExamDate(
                "ecrit",
                "Épreuve écrite d'admissibilité",
                ExamKind.WRITTEN,
                now + timedelta(days=60),
                "Parc des expositions, Vannes",
            ),
            ExamDate("oral", "Épreuve orale d'admission", ExamKind.ORAL, now + timedelta(days=90), "CDG 56, Vannes"),
        ],
        validation_reminders=reminders if reminders is not None else [timedelta(days=7), timedelta(days=1)],
        receipt_delay=receipt_delay,
    )
    for key, value in overrides.items():
        setattr(c, key, value)
    return c.with_public_holidays()


def form(campaign_id: str, **overrides) -> dict:
    data = {
        "campaign_id": campaign_id,
        "route": "externe",
        "civility": "Madame",
        "last_name": "Le Goff",
        "first_name": "Maëlle",
        "birth_date": date(1994, 5, 17).isoformat(),
        "email": f"maelle.{uuid.uuid4().hex[:6]}@example.fr",
        "address_line1": "12 rue du Port",
        "postal_code": "56000",
        "city": "Vannes",
        "password": "Correct-Horse-42",
    }
    data.update(overrides)
    return data


def dossier_mail(number: str, template: MailTemplate, to: str, status: str, **context: str) -> Mail:
    """A mail a dossier queues, with the context every template reads (and `context` on top)."""
    return Mail(
        key=f"{number}/1",
        template=template,
        to=to,
        context={
            "dossier_number": number,
            "civility": "Madame",
            "full_name": "Maëlle Le Goff",
            "grade": "Rédacteur territorial",
            "organiser": "CDG 56",
            "route": "Concours externe",
            "status": status,
            **context,
        },
    )
