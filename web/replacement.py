"""One registration per grade, with proof: a later pre-registration of the same person (same
name and birth date) for the same grade replaces the earlier dossier only once the earlier
dossier's owner confirms it, logged in to that dossier's space (its password, or a reset link
sent to its e-mail address, is the proof). Until then nothing of the earlier dossier changes:
the request is a row of `replacement_requests`, and the earlier address is told by e-mail.

Which dossiers a confirmation may close the dossier's rules decide
(`domain.dossier.Dossier.check_confirm_replacement`: only a pre-registration not yet validated).
Whatever the confirmation, staff see every person holding two open dossiers for one grade
(`other_dossiers`, `duplicated`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from infra.clock import now
from infra.database import Account, ReplacementRequest
from infra.settings import Settings
from infra.smtp import SMTP_ERRORS, compose, deliver
from workflows.client import WorkflowClient
from workflows.dossier import DossierWorkflow

log = logging.getLogger(__name__)

_MAIL_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates" / "mail"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # plain-text mail
)


class UnknownRequest(Exception):
    """No pending replacement of this dossier by that one."""


async def pending(db: AsyncSession, earlier: str) -> list[ReplacementRequest]:
    """Later pre-registrations waiting for this dossier's owner to confirm or ignore them."""
    rows = await db.scalars(
        select(ReplacementRequest)
        .where(ReplacementRequest.earlier == earlier, ReplacementRequest.confirmed_at.is_(None))
        .order_by(ReplacementRequest.created_at)
    )
    return list(rows.all())


async def tell_earlier_owner(settings: Settings, earlier: Account, later: str, grade: str) -> None:
    """E-mail the earlier dossier's address that a later pre-registration waits for its
    confirmation. A failure is logged: the request shows in the earlier space all the same."""
    text = _MAIL_TEMPLATES.get_template("remplacement_a_confirmer.txt").render(
        dossier_number=earlier.dossier_number,
        new_dossier=later,
        grade=grade,
        space_url=settings.public_url.rstrip("/"),
    )
    subject, _, body = text.partition("\n")
    msg = compose(
        settings,
        to=earlier.email,
        subject=subject.strip(),
        body=body.lstrip("\n"),
        key=f"replacement/{earlier.dossier_number}/{later}",
        dossier=earlier.dossier_number,
    )
    try:
        await deliver(settings, msg)
    except SMTP_ERRORS as exc:
        log.error("Dossier %s: replacement request mail not sent (%s)", earlier.dossier_number, exc)


async def confirm(db: AsyncSession, client: WorkflowClient, earlier: str, later: str) -> None:
    """The earlier dossier's owner (logged in to it) confirms: its workflow closes it (or
    refuses, `Refusal`, with the French reason), then the account and request record it."""
    request = await db.get(ReplacementRequest, (earlier, later))
    if request is None:
        raise UnknownRequest(later)
    await db.commit()  # nothing held while the workflow answers
    await client.update(earlier, DossierWorkflow.confirm_replacement, later)
    request = await db.get(ReplacementRequest, (earlier, later))
    account = await db.get(Account, earlier)
    assert request is not None and account is not None
    request.confirmed_at = request.confirmed_at or now()
    account.replaced_by = later
    await db.commit()
    log.info("Dossier %s replaced by %s, confirmed from its space", earlier, later)


async def other_dossiers(db: AsyncSession, number: str) -> list[Account]:
    """The person's other open dossiers for the same grade (same name and birth date, not
    replaced): staff are told, whether or not a replacement is pending."""
    account = await db.get(Account, number)
    if account is None:
        return []
    rows = await db.scalars(
        select(Account)
        .where(
            Account.grade == account.grade,
            Account.person_key == account.person_key,
            Account.replaced_by.is_(None),
            Account.dossier_number != number,
        )
        .order_by(Account.created_at)
    )
    return list(rows.all())


async def duplicated(db: AsyncSession, numbers: list[str]) -> set[str]:
    """Which of these dossiers belong to a person holding another open dossier for the grade."""
    if not numbers:
        return set()
    listed = (await db.scalars(select(Account).where(Account.dossier_number.in_(numbers)))).all()
    keys = {(a.grade, a.person_key) for a in listed if a.replaced_by is None}
    if not keys:
        return set()
    open_rows = (
        await db.execute(
            select(Account.grade, Account.person_key).where(
                Account.person_key.in_({k for _, k in keys}), Account.replaced_by.is_(None)
            )
        )
    ).all()
    count: dict[tuple[str, str], int] = {}
    for grade, key in open_rows:
        count[(grade, key)] = count.get((grade, key), 0) + 1
    return {a.dossier_number for a in listed if a.replaced_by is None and count.get((a.grade, a.person_key), 0) > 1}
