"""Pre-registration: create the candidate's account and start the dossier's workflow, or neither.

The account row and the workflow are created together: if the workflow cannot start, the
account is rolled back; if the account cannot be committed, the workflow is terminated. A new
registration for a grade the same person already registered for replaces the earlier dossier.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from datetime import date, datetime

from fastapi import HTTPException, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.campaign import Campaign
from domain.candidate import Address, Candidate, Registration
from infra.database import Account, get_campaign, list_campaigns, next_number
from workflows.client import UNAVAILABLE, WorkflowClient
from web.schemas import PreRegistrationIn
from web.security import hash_password, password_problem
from workflows import names

log = logging.getLogger(__name__)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def person_key(last_name: str, first_name: str, birth_date: date) -> str:
    """The same person whatever the accents, case or spacing they typed this time."""

    def fold(text: str) -> str:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z]", "", text.lower())

    return f"{fold(last_name)}|{fold(first_name)}|{birth_date.isoformat()}"


def dossier_number(campaign: Campaign, sequence: int) -> str:
    prefix = re.sub(r"[^A-Z0-9]", "", campaign.id.upper())[:10]
    return f"{prefix}-{sequence:05d}"


async def open_campaigns(session: AsyncSession, now: datetime) -> list[Campaign]:
    """Sessions taking pre-registrations now."""
    return [c for c in await list_campaigns(session) if c.is_open_for_registration(now)]


def _refuse(code: int, message: str) -> HTTPException:
    return HTTPException(code, message)


def check_form(form: PreRegistrationIn, campaign: Campaign, now: datetime) -> None:
    if now < campaign.registration_opens_at:
        raise _refuse(status.HTTP_409_CONFLICT, "Les préinscriptions à cette session ne sont pas encore ouvertes.")
    if now > campaign.registration_closes_at:
        raise _refuse(status.HTTP_409_CONFLICT, "Les préinscriptions à cette session sont closes.")
    route = campaign.route(form.route)
    if route is None:
        raise _refuse(status.HTTP_422_UNPROCESSABLE_CONTENT, "Voie d'accès inconnue pour cette session.")
    if route.specialities and form.speciality not in route.specialities:
        raise _refuse(status.HTTP_422_UNPROCESSABLE_CONTENT, "Choisissez une spécialité proposée pour cette voie.")
    if not route.specialities and form.speciality:
        raise _refuse(status.HTTP_422_UNPROCESSABLE_CONTENT, "Cette voie ne propose pas de spécialité.")
    if not EMAIL.match(form.email):
        raise _refuse(status.HTTP_422_UNPROCESSABLE_CONTENT, "Adresse e-mail invalide.")
    if form.birth_date >= now.date():
        raise _refuse(status.HTTP_422_UNPROCESSABLE_CONTENT, "Date de naissance invalide.")
    for label, value in (
        ("Le nom", form.last_name),
        ("Le prénom", form.first_name),
        ("L'adresse", form.address_line1),
        ("Le code postal", form.postal_code),
        ("La ville", form.city),
    ):
        if not value.strip():
            raise _refuse(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{label} est obligatoire.")
    problem = password_problem(form.password)
    if problem:
        raise _refuse(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)


async def preregister(
    form: PreRegistrationIn, session: AsyncSession, client: WorkflowClient, now: datetime
) -> Registration:
    campaign = await get_campaign(session, form.campaign_id)
    if campaign is None:
        raise _refuse(status.HTTP_404_NOT_FOUND, "Session de concours introuvable.")
    check_form(form, campaign, now)
    # argon2id takes about half a second: hash in a thread, not on the event loop, and before
    # the dossier number is taken, so the counter's write lock is not held meanwhile.
    password_hash = await asyncio.to_thread(hash_password, form.password)

    key = person_key(form.last_name, form.first_name, form.birth_date)
    previous = await session.scalar(
        select(Account)
        .where(Account.grade == campaign.grade, Account.person_key == key, Account.replaced_by.is_(None))
        .order_by(Account.created_at.desc())
        .limit(1)
    )
    number = dossier_number(campaign, await next_number(session, campaign.id))
    # Release the counter's write lock at once: starting the workflow is a network round trip,
    # and near a deadline pre-registrations must not queue behind it. A number whose dossier
    # then fails to start is simply never used (a gap, not a half-created dossier).
    await session.commit()
    registration = Registration(
        dossier_number=number,
        campaign=campaign,
        route=form.route,
        speciality=form.speciality or None,
        candidate=Candidate(
            civility=form.civility,
            last_name=form.last_name.strip(),
            first_name=form.first_name.strip(),
            birth_date=form.birth_date,
            email=form.email.strip(),
            phone=form.phone.strip(),
            address=Address(
                line1=form.address_line1.strip(),
                line2=form.address_line2.strip(),
                postal_code=form.postal_code.strip(),
                city=form.city.strip(),
                country=form.country.strip() or "France",
            ),
            publish_name=form.publish_name,
        ),
        registered_at=now,
        replaces=previous.dossier_number if previous else None,
    )
    session.add(
        Account(
            dossier_number=number,
            campaign_id=campaign.id,
            grade=campaign.grade,
            person_key=key,
            email=form.email.strip().lower(),
            password_hash=password_hash,
        )
    )
    if previous is not None:
        previous.replaced_by = number
    await session.flush()

    try:
        await client.start_dossier(registration)
    except Exception as exc:
        await session.rollback()
        log.error("Pre-registration %s not created: the dossier workflow did not start (%s)", number, exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from exc
    try:
        await session.commit()
    except Exception as exc:
        await client.terminate(number, "account could not be saved")
        log.error("Pre-registration %s undone: its account could not be saved (%s)", number, exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from exc

    if previous is not None:
        try:
            await client.signal(previous.dossier_number, names.REPLACED_BY, number)
        except Exception as exc:  # the new dossier stands; the operator must close the old one
            log.error(
                "Dossier %s replaces %s but the old dossier could not be told (%s); "
                "send it the '%s' signal by hand",
                number, previous.dossier_number, exc, names.REPLACED_BY,
            )
    log.info("Pre-registration %s created for campaign %s", number, campaign.id)
    return registration
