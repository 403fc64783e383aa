"""Pre-registration: create the candidate's account and start the dossier's workflow, or neither.

Whether the registration may be taken, and which earlier dossier it may replace, the domain
decides (`domain.registration`); this module reads the form, stores the account and starts the
workflow. A possible replacement is only recorded and the earlier dossier's address told: the
earlier dossier changes once its owner confirms (`web.replacement`).
The account row and the workflow are created together: the account is written only once the
workflow has started, and if it cannot be committed, the workflow is terminated.

No database transaction is open while the password is hashed or the workflow starts (each can
wait seconds under load, and would hold a pooled connection, and on SQLite the write lock,
meanwhile): reads end before the hash, the dossier number is taken in a short transaction of its
own, and the account is written in another after the start.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from fastapi import HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.campaign import Campaign
from domain.candidate import Address, Candidate, Registration
from domain.email_address import normalised_email
from domain.registration import (
    Registrant,
    RegistrationClosed,
    RegistrationRefused,
    check_preregistration,
    dossier_number,
)
from infra.database import Account, ReplacementRequest, get_campaign, list_campaigns, next_number
from infra.settings import Settings
from web.ratelimit import Limit, attempt_all, client_ip
from web.replacement import tell_earlier_owner
from web.schemas import PreRegistrationIn
from web.security import HASHES, hash_password, password_problem
from workflows.client import UNAVAILABLE, WorkflowClient

log = logging.getLogger(__name__)


async def open_campaigns(session: AsyncSession, now: datetime) -> list[Campaign]:
    """Sessions taking pre-registrations now."""
    return [c for c in await list_campaigns(session) if c.is_open_for_registration(now)]


def candidate_of(form: PreRegistrationIn) -> Candidate:
    """The candidate as the form gives them, each field trimmed."""
    return Candidate(
        civility=form.civility,
        last_name=form.last_name.strip(),
        first_name=form.first_name.strip(),
        birth_date=form.birth_date,
        email=normalised_email(form.email),  # an IDN domain in its ASCII form (domain.email_address)
        phone=form.phone.strip(),
        address=Address(
            line1=form.address_line1.strip(),
            line2=form.address_line2.strip(),
            postal_code=form.postal_code.strip(),
            city=form.city.strip(),
            country=form.country.strip() or "France",
        ),
        publish_name=form.publish_name,
    )


def check_form(form: PreRegistrationIn, campaign: Campaign, candidate: Candidate, now: datetime) -> None:
    """The domain's rules, then the password's; refusals as HTTP errors (409 outside the window)."""
    try:
        check_preregistration(campaign, form.route, form.speciality or None, candidate, now)
    except RegistrationClosed as closed:
        raise HTTPException(status.HTTP_409_CONFLICT, str(closed)) from None
    except RegistrationRefused as refused:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(refused)) from None
    problem = password_problem(
        form.password,
        (candidate.last_name, candidate.first_name, candidate.email, candidate.birth_date.strftime("%d%m%Y")),
    )
    if problem:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)


TOO_MANY_FROM_ADDRESS = "Trop de préinscriptions ont été envoyées depuis votre connexion."
TOO_MANY_FOR_EMAIL = "Trop de préinscriptions ont été envoyées pour cette adresse e-mail."


async def count_preregistration(session: AsyncSession, request: Request, settings: Settings, email: str) -> None:
    """Count this pre-registration per client address (an hour) and per e-mail address (a day),
    or HTTP 429 with a French message: each one costs a password hash, a durable workflow and an
    e-mail, which a script must not be able to multiply. Counted once the form is valid (a
    person correcting a typo is not counted) and before any of that work. The e-mail is kept
    only as a hash in the counters' table."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    await attempt_all(
        session,
        [
            (
                f"preregistration|{client_ip(request)}",
                Limit(settings.preregistrations_per_address, 3600),
                TOO_MANY_FROM_ADDRESS,
            ),
            (
                f"preregistration-email|{digest}",
                Limit(settings.preregistrations_per_email, 24 * 3600),
                TOO_MANY_FOR_EMAIL,
            ),
        ],
    )


async def preregister(
    form: PreRegistrationIn,
    session: AsyncSession,
    client: WorkflowClient,
    now: datetime,
    request: Request,
    settings: Settings,
) -> Registration:
    campaign = await get_campaign(session, form.campaign_id)
    if campaign is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Session de concours introuvable.")
    candidate = candidate_of(form)
    check_form(form, campaign, candidate, now)
    await session.commit()  # read-only so far: the counters' write starts a transaction of its own
    await count_preregistration(session, request, settings, candidate.email)
    password_hash = await HASHES.run(hash_password, form.password)

    registrant = Registrant.of(campaign, candidate)
    previous = await session.scalar(
        select(Account)
        .where(
            Account.grade == registrant.grade,
            Account.person_key == registrant.person_key,
            Account.replaced_by.is_(None),
        )
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
        candidate=candidate,
        registered_at=now,
        # Not a replacement yet: only the earlier dossier's owner can make it one (web.replacement).
        replaces=None,
    )
    try:
        await client.start_dossier(registration)
    except Exception as exc:
        log.error("Pre-registration %s not created: the dossier workflow did not start (%s)", number, exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from exc

    session.add(
        Account(
            dossier_number=number,
            campaign_id=campaign.id,
            grade=registrant.grade,
            person_key=registrant.person_key,
            email=candidate.email.lower(),
            password_hash=password_hash,
        )
    )
    if previous is not None:  # the same name and birth date prove nothing: ask the earlier owner
        session.add(ReplacementRequest(earlier=previous.dossier_number, later=number))
    try:
        await session.commit()
    except Exception as exc:
        await session.rollback()
        await client.terminate(number, "account could not be saved")
        log.error("Pre-registration %s undone: its account could not be saved (%s)", number, exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from exc

    if previous is not None:
        await tell_earlier_owner(settings, previous, number, campaign.grade)
    log.info("Pre-registration %s created for campaign %s", number, campaign.id)
    return registration
