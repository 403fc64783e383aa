"""Pre-registration: create the candidate's account and start the dossier's workflow, or neither.

Whether the registration may be taken, and which earlier one it replaces, the domain decides
(`domain.registration`); this module reads the form, stores the account and starts the workflow.
The account row and the workflow are created together: the account is written only once the
workflow has started, and if it cannot be committed, the workflow is terminated.

No database transaction is open while the password is hashed or the workflow starts (each can
wait seconds under load, and would hold a pooled connection, and on SQLite the write lock,
meanwhile): reads end before the hash, the dossier number is taken in a short transaction of its
own, and the account is written in another after the start.
"""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import HTTPException, status
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
from infra.database import Account, get_campaign, list_campaigns, next_number
from web.schemas import PreRegistrationIn
from web.security import HASHES, hash_password, password_problem
from workflows import names
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
    problem = password_problem(form.password)
    if problem:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)


async def preregister(
    form: PreRegistrationIn, session: AsyncSession, client: WorkflowClient, now: datetime
) -> Registration:
    campaign = await get_campaign(session, form.campaign_id)
    if campaign is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Session de concours introuvable.")
    candidate = candidate_of(form)
    check_form(form, campaign, candidate, now)
    await session.commit()  # read-only so far: no connection held while the hash waits its turn
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
        replaces=previous.dossier_number if previous else None,
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
    if previous is not None:
        previous.replaced_by = number
    try:
        await session.commit()
    except Exception as exc:
        await session.rollback()
        await client.terminate(number, "account could not be saved")
        log.error("Pre-registration %s undone: its account could not be saved (%s)", number, exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from exc

    if previous is not None:
        try:
            await client.signal(previous.dossier_number, names.REPLACED_BY, number)
        except Exception as exc:  # the new dossier stands; the operator must close the old one
            log.error(
                "Dossier %s replaces %s but the old dossier could not be told (%s); send it the '%s' signal by hand",
                number,
                previous.dossier_number,
                exc,
                names.REPLACED_BY,
            )
    log.info("Pre-registration %s created for campaign %s", number, campaign.id)
    return registration
