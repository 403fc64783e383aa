"""Password reset through an emailed link: single use, expiring, only for accounts with an email.

The link carries a random token; SQL keeps only its SHA-256, an expiry and a used flag. Using it
is one conditional UPDATE (unused and unexpired), so two clicks racing cannot both succeed. The
new password is hashed before that transaction begins (in turn, `web.security.HASHES`), so no
connection or write lock is held while the hash waits or runs.

The email is sent from here, not by the dossier workflow: the token is a secret and the
workflow's history is durable and readable by operators, and a password is no part of the
dossier's state. The request page answers the same whether or not the dossier exists (no way to
probe which numbers are taken), and the mail leaves after the response, so timing tells nothing
either.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from infra.database import Account, PasswordReset
from infra.settings import Settings
from infra.smtp import SMTP_ERRORS, compose, deliver
from web.security import HASHES, hash_password

log = logging.getLogger(__name__)

LINK_LIFETIME = timedelta(hours=1)
RESET_PATH = "/mot-de-passe/nouveau"
TOKEN_PARAMETER = "jeton"  # kept out of the access log (`web.access_log`)

_MAIL_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates" / "mail"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # plain-text mail
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(db: AsyncSession, number: str, now: datetime) -> tuple[str, str] | None:
    """A new reset token for `number` and the address to send it to, or None when the dossier
    does not exist or has no email on file ("Il est impératif d'avoir saisi une adresse mail")."""
    account = await db.get(Account, number)
    if account is None or not (account.email or "").strip():
        return None
    token = secrets.token_urlsafe(32)
    db.add(PasswordReset(token_hash=token_hash(token), dossier_number=number, expires_at=now + LINK_LIFETIME))
    await db.commit()
    return token, account.email


async def is_usable(db: AsyncSession, token: str, now: datetime) -> bool:
    row = await db.get(PasswordReset, token_hash(token)) if token else None
    return row is not None and row.used_at is None and _aware(row.expires_at) > now


async def consume(db: AsyncSession, token: str, new_password: str, now: datetime) -> str | None:
    """Use the token once and set the new password; the dossier number, or None if the link
    is unknown, used or expired. Other pending links of the dossier die with it."""
    if not token:
        return None
    digest = token_hash(token)
    row = await db.get(PasswordReset, digest)
    await db.commit()  # read-only so far (the caller's `is_usable` too): nothing held while hashing
    if row is None:
        return None
    new_hash = await HASHES.run(hash_password, new_password)
    number = row.dossier_number
    # The single-use guarantee: only one UPDATE can turn used_at from NULL to a date.
    claimed = await db.execute(
        update(PasswordReset)
        .where(
            PasswordReset.token_hash == digest,
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE without RETURNING gives a CursorResult, the one result that counts matched rows.
    if not isinstance(claimed, CursorResult) or claimed.rowcount != 1:
        await db.rollback()
        return None
    await db.execute(
        update(PasswordReset)
        .where(PasswordReset.dossier_number == number, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    account = await db.scalar(select(Account).where(Account.dossier_number == number))
    assert account is not None  # foreign key
    account.password_hash = new_hash
    await db.commit()
    log.info("Dossier %s: password reset through an emailed link", number)
    return number


def _aware(instant: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def reset_link(settings: Settings, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}{RESET_PATH}?{TOKEN_PARAMETER}={token}"


async def send_link(settings: Settings, number: str, to: str, token: str) -> None:
    """Email the link; run after the response (a failure is logged: the candidate can ask again)."""
    text = _MAIL_TEMPLATES.get_template("reinitialisation_mot_de_passe.txt").render(
        dossier_number=number,
        link=reset_link(settings, token),
        minutes=int(LINK_LIFETIME.total_seconds() // 60),
        space_url=settings.public_url,
    )
    subject, _, body = text.partition("\n")
    # A fresh key per link: two requests are two distinct mails.
    msg = compose(
        settings, to=to, subject=subject.strip(), body=body.lstrip("\n"), key=f"reset/{token}", dossier=number
    )
    try:
        await deliver(settings, msg)
    except SMTP_ERRORS as exc:
        log.error("Dossier %s: password-reset mail not sent (%s)", number, exc)
