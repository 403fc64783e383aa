"""Candidate login and the session cookie, shared by the pages and the JSON API.

Password checks run in a thread: argon2id is deliberately slow (about half a second on a small
host) and would otherwise stall every other request on the event loop. Failed attempts are
rate limited per IP and dossier number (see `web.ratelimit`).
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

from fastapi import HTTPException, Request, Response, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from infra.database import Account
from infra.settings import Settings
from web import csrf
from web.deps import CANDIDATE, SESSION_COOKIE
from web.ratelimit import KeyedLimits, Limit
from web.security import SessionTokens, hash_password, verify_password

WRONG_LOGIN = "Identifiant ou mot de passe incorrect."

# Five wrong passwords for one dossier from one address, then a 15-minute pause; an address
# failing on many dossiers is stopped after 50.
LOGIN_LIMITS = KeyedLimits(per_identifier=Limit(5, 15 * 60), per_ip=Limit(50, 15 * 60), what="connexion")


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """Checked when the dossier does not exist, so both answers take the same time."""
    return hash_password("decoy-password-never-valid")


def normalise_number(dossier_number: str) -> str:
    return dossier_number.strip().upper()


async def authenticate(request: Request, db: AsyncSession, dossier_number: str, password: str) -> Account:
    """The account whose password this is, or HTTP 401/429 with a French message."""
    number = normalise_number(dossier_number)
    LOGIN_LIMITS.check(request, number)
    account = await db.scalar(select(Account).where(Account.dossier_number == number)) if number else None
    stored = account.password_hash if account else await asyncio.to_thread(_decoy_hash)
    valid = await asyncio.to_thread(verify_password, stored, password)
    if account is None or not valid:
        LOGIN_LIMITS.hit(request, number)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, WRONG_LOGIN)
    LOGIN_LIMITS.forget(request, number)
    return account


def open_session(
    request: Request, response: Response, tokens: SessionTokens, settings: Settings, subject: str, password_hash: str
) -> None:
    """Set the session cookie for `subject` ("candidate:<n°>", "staff:<login>"), bound to the
    account's current password hash: it stops working when the password changes."""
    response.set_cookie(
        SESSION_COOKIE,
        tokens.issue(subject, password_hash),
        max_age=tokens.max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    csrf.rotate(request)  # forms rendered before the login must not work after it


def open_candidate_session(
    request: Request, response: Response, tokens: SessionTokens, settings: Settings, account: Account
) -> None:
    open_session(request, response, tokens, settings, CANDIDATE + account.dossier_number, account.password_hash)


def close_session(request: Request, response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=settings.secure_cookies)
    csrf.rotate(request)
