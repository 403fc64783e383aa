"""Candidate login and the session cookie, shared by the pages and the JSON API.

Password checks run in a thread, in turn (`web.security.HASHES`): argon2id is deliberately
slow and would otherwise stall every other request on the event loop. No database transaction
is open while a check runs or waits for its turn: the account is read, the read ends (its
connection goes back to the pool), then the password is checked. A hash made with older
parameters is replaced at a successful login, by a conditional UPDATE (only if the account still
has the hash that was checked), and the session is bound to the new one. Failed attempts are
rate limited per address and dossier number, counted before the check (see `web.ratelimit`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from fastapi import HTTPException, Request, Response, status
from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.attributes import set_committed_value
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.database import Account, revoke_session
from infra.settings import Settings
from web import csrf
from web.deps import CANDIDATE, SESSION_COOKIE, session_token
from web.metrics import count_login
from web.ratelimit import KeyedLimits, Limit
from web.security import HASHES, PasswordCheck, SessionClaim, SessionTokens, check_password, hash_password

WRONG_LOGIN = "Identifiant ou mot de passe incorrect."


class _PasswordHolder(Protocol):
    password_hash: str


AccountT = TypeVar("AccountT", bound=_PasswordHolder)  # a candidate's or a staff account

# Five wrong passwords for one dossier from one address, then a 15-minute pause; an address
# failing on many dossiers is stopped after 50.
LOGIN_LIMITS = KeyedLimits("login", per_identifier=Limit(5, 15 * 60), per_address=Limit(50, 15 * 60), what="connexion")


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """Checked when the dossier does not exist, so both answers take the same time."""
    return hash_password("decoy-password-never-valid")


def normalise_number(dossier_number: str) -> str:
    return dossier_number.strip().upper()


def _check(stored: str | None, decoy: Callable[[], str], password: str) -> PasswordCheck:
    if stored is None:
        check_password(decoy(), password)  # the same work, whatever the answer
        return PasswordCheck(valid=False)
    return check_password(stored, password)


async def check_login(db: AsyncSession, stored: str | None, password: str, decoy: Callable[[], str]) -> PasswordCheck:
    """Check `password` against the stored hash (None: no such account; the decoy is checked
    instead, so both answers take the same time), with no transaction open meanwhile: the
    caller's read ends here, and the check waits for its turn without holding a connection."""
    await db.commit()  # read-only so far: ends the transaction, keeps the loaded rows readable
    return await HASHES.run(_check, stored, decoy, password)


async def save_rehash(db: AsyncSession, row: Any, key: InstrumentedAttribute[str], checked: str, new: str) -> bool:
    """Store `new` as `row`'s password hash if the account still has the hash just checked (a
    reset or another login may have changed it meanwhile); True when saved, and `row` then
    carries the new hash (the session about to open is bound to it)."""
    entity = key.class_
    result = await db.execute(
        update(entity)
        .where(key == getattr(row, key.key), entity.password_hash == checked)
        .values(password_hash=new)
        .execution_options(synchronize_session=False)
    )
    await db.commit()
    saved = isinstance(result, CursorResult) and result.rowcount == 1
    if saved:
        set_committed_value(row, "password_hash", new)
    return saved


async def verified_account(
    request: Request,
    db: AsyncSession,
    limits: KeyedLimits,
    identifier: str,
    password: str,
    load: Callable[[], Awaitable[AccountT | None]],
    key: InstrumentedAttribute[str],
    decoy: Callable[[], str],
    usable: Callable[[AccountT], bool] = lambda _: True,
) -> AccountT:
    """The account (candidate or staff) whose password this is, its hash replaced when made with
    older parameters; otherwise HTTP 401, or 429 once `limits` are reached."""
    space = "staff" if request.url.path.startswith("/staff") else "candidat"
    # Counted before the check, in one atomic statement: parallel guesses get `limit` tries in
    # all, not one each. A success gives its attempt back below.
    try:
        await limits.attempt(db, request, identifier)
    except HTTPException:
        count_login(space, "limited")
        raise
    account: AccountT | None = None
    # Twice at most: a login that finds its re-hash overtaken (a double-clicked login re-hashed
    # first, or a reset) checks again against the hash the account has now.
    for _ in range(2):
        account = await load() if identifier else None
        check = await check_login(db, account.password_hash if account else None, password, decoy)
        if account is None or not check.valid or not usable(account):
            count_login(space, "refused")
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, WRONG_LOGIN)
        if check.rehashed is None or await save_rehash(db, account, key, account.password_hash, check.rehashed):
            break
        db.expunge(account)  # read it afresh
    assert account is not None  # checked in the loop
    await limits.succeeded(db, request, identifier)
    count_login(space, "accepted")
    return account


async def authenticate(request: Request, db: AsyncSession, dossier_number: str, password: str) -> Account:
    """The candidate's account whose password this is, or HTTP 401/429 with a French message."""
    number = normalise_number(dossier_number)

    async def load() -> Account | None:
        return await db.scalar(select(Account).where(Account.dossier_number == number))

    return await verified_account(
        request, db, LOGIN_LIMITS, number, password, load, Account.dossier_number, _decoy_hash
    )


def set_session_cookie(response: Response, settings: Settings, token: str, max_age: int) -> None:
    """The session cookie: HttpOnly, SameSite=Lax; Secure with the `__Host-` name over HTTPS."""
    response.set_cookie(
        settings.cookie_name(SESSION_COOKIE),
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def open_session(
    request: Request, response: Response, tokens: SessionTokens, settings: Settings, subject: str, password_hash: str
) -> None:
    """Set the session cookie for `subject` ("candidate:<n°>", "staff:<login>"), bound to the
    account's current password hash: it stops working when the password changes."""
    token = tokens.issue(subject, password_hash)
    set_session_cookie(response, settings, token, tokens.max_age)
    # Forms rendered before the login must not work after it, and those rendered from now on
    # are bound to this session.
    csrf.rotate(request, session_id=tokens.session_id(token))


def open_candidate_session(
    request: Request, response: Response, tokens: SessionTokens, settings: Settings, account: Account
) -> None:
    open_session(request, response, tokens, settings, CANDIDATE + account.dossier_number, account.password_hash)


async def close_session(
    request: Request, response: Response, settings: Settings, tokens: SessionTokens, db: AsyncSession
) -> None:
    """Logout: the session is revoked in the shared database (a copy of the token, in another
    browser or another web process, stops working too), then the cookie is deleted."""
    token = session_token(request)
    claim = tokens.read(token) if token else None
    if claim is not None:
        expires_at = datetime.fromtimestamp(claim.issued_at + tokens.max_age, UTC)
        await revoke_session(db, claim.session_id, expires_at)
    response.delete_cookie(
        settings.cookie_name(SESSION_COOKIE), path="/", httponly=True, samesite="lax", secure=settings.secure_cookies
    )
    csrf.rotate(request, session_id="")


_STATE_REFRESH = "session_refresh"  # scope["state"] key: a re-signed session token to send back

# A staff token is re-signed at most once a minute: its idle time is counted to the minute,
# without a Set-Cookie on every request.
REFRESH_AFTER_SECONDS = 60


def refresh_later(request: Request, tokens: SessionTokens, claim: SessionClaim) -> None:
    """Send the session back re-signed (its idle time starts over) with this request's response,
    whatever response the page then returns (`SessionRefreshMiddleware`)."""
    if time.time() - claim.signed_at >= REFRESH_AFTER_SECONDS:
        remaining = max(0, claim.issued_at + tokens.max_age - int(time.time()))
        request.scope.setdefault("state", {})[_STATE_REFRESH] = (tokens.refresh(claim), remaining)


class SessionRefreshMiddleware:
    """Adds the re-signed session cookie a dependency asked for (`refresh_later`): pages return
    their own Response objects, which a dependency cannot add cookies to."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            refresh = scope.get("state", {}).get(_STATE_REFRESH)
            if message["type"] == "http.response.start" and refresh is not None:
                holder = Response()
                set_session_cookie(holder, self.settings, *refresh)
                cookies = [(k, v) for k, v in holder.raw_headers if k == b"set-cookie"]
                message = {**message, "headers": [*message.get("headers", []), *cookies]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
