"""A demonstration campaign, so a fresh local install has something to register for."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from domain.calendar import local_instant
from domain.campaign import Campaign, DocumentCategory, ExamDate, ExamKind, Route
from infra.database import Database, get_campaign, save_campaign
from infra.staff_accounts import StaffAccount, StaffRole
from ops.staff_cli import create_account

DEMO_ID = "red2027"  # dossier numbers read RED2027-00001
PARIS = "Europe/Paris"


def _paris(day: date, at: time) -> datetime:
    return local_instant(day, at, PARIS)


def demo_campaign(today: date) -> Campaign:
    """Rédacteur territorial: window open now, validation deadline in five weeks at 17:00."""
    diplomas = [
        DocumentCategory("formulaire", "Formulaire d'inscription daté et signé", 1),
        DocumentCategory("diplome", "Diplôme(s) requis", 3),
        DocumentCategory("derogation", "OU Pièce(s) relative(s) à une dérogation de diplôme", 1),
        DocumentCategory("equivalence", "OU Pièce(s) relative(s) à une équivalence de diplôme", 1),
        DocumentCategory("autre", "Toute(s) autre(s) pièce(s) complémentaire(s)", 1),
    ]
    services = [
        DocumentCategory("formulaire", "Formulaire d'inscription daté et signé", 1),
        DocumentCategory("etats", "État(s) des services publics", 3),
        DocumentCategory("autre", "Toute(s) autre(s) pièce(s) complémentaire(s)", 1),
    ]
    return Campaign(
        id=DEMO_ID,
        grade="Rédacteur territorial",
        organiser="CDG 56",
        time_zone=PARIS,
        holiday_zone="metropole",
        registration_opens_at=_paris(today - timedelta(days=7), time(0, 0)),
        registration_closes_at=_paris(today + timedelta(days=28), time(23, 59, 59)),
        validation_deadline=_paris(today + timedelta(days=35), time(17, 0)),
        upload_grace=timedelta(days=5),
        routes=[
            Route("externe", "Concours externe", diplomas),
            Route("interne", "Concours interne", services),
            Route("troisieme", "Troisième concours", services),
        ],
        exams=[
            ExamDate(
                "ecrit",
                "Épreuves écrites d'admissibilité",
                ExamKind.WRITTEN,
                _paris(today + timedelta(days=120), time(9, 0)),
                "Parc des expositions du Chorus, Vannes",
            ),
            ExamDate(
                "oral",
                "Épreuves orales d'admission",
                ExamKind.ORAL,
                _paris(today + timedelta(days=180), time(8, 30)),
                "CDG 56, 6 bis rue Olivier de Clisson, Vannes",
            ),
        ],
    )


async def ensure_demo_campaign(database: Database) -> bool:
    """Create the demo campaign once; its dates then stay as they were."""
    async with database.sessions() as session:
        if await get_campaign(session, DEMO_ID) is not None:
            return False
        await save_campaign(session, demo_campaign(datetime.now(UTC).date()))
        return True


DEMO_STAFF_LOGIN = "admin"


async def ensure_demo_administrator(database: Database) -> str | None:
    """On a first local run (no staff account yet), an administrator with a random password.

    Returns the password, printed once by the run command; None when staff accounts exist.
    Production accounts are created with `python -m ops.staff_cli create-account`.
    """
    async with database.sessions() as session:
        if await session.scalar(select(func.count()).select_from(StaffAccount)):
            return None
    password = f"{secrets.token_urlsafe(12)}-{secrets.randbelow(90) + 10}"
    await create_account(
        database, DEMO_STAFF_LOGIN, "Administrateur de démonstration", StaffRole.ADMINISTRATOR, password
    )
    return password
