"""Who may call what: the dependencies every route declares.

They are `async def` even where they do not await: FastAPI runs plain `def` dependencies in a
thread pool, a thread hop per dependency per request for what is an attribute read.

A session token is bound to the password the account had when it was opened: each
authenticated request reads the account's current hash and whether the session was ended by
its logout (one round trip), and refuses the token once the password has changed or after logout.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from infra import logs
from infra.database import Account, Database, session_revoked
from infra.files import FileStore
from infra.settings import Settings
from web.security import SessionTokens
from workflows.client import WorkflowClient

SESSION_COOKIE = "inscriptions_session"  # `__Host-inscriptions_session` over HTTPS (Settings.cookie_name)
CANDIDATE = "candidate:"


def session_token(request: Request) -> str | None:
    """The session cookie's value, under the name this deployment uses."""
    return request.cookies.get(request.app.state.session_cookie)


async def get_received_at(request: Request) -> datetime:
    """When the request reached the app (`web.middleware.ReceiptMiddleware`)."""
    return request.state.received_at


ReceivedAt = Annotated[datetime, Depends(get_received_at)]


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request):
    async with request.app.state.database.sessions() as session:
        yield session


async def get_client(request: Request) -> WorkflowClient:
    return request.app.state.client


async def get_tokens(request: Request) -> SessionTokens:
    return request.app.state.tokens


async def get_files(request: Request) -> FileStore:
    return request.app.state.files


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_db)]
ClientDep = Annotated[WorkflowClient, Depends(get_client)]
TokensDep = Annotated[SessionTokens, Depends(get_tokens)]
FilesDep = Annotated[FileStore, Depends(get_files)]


async def candidate_password_hash(database: Database, number: str) -> str | None:
    """The account's current password hash: one primary-key read on a connection of its own,
    given back at once (not held while the page then queries the dossier's workflow)."""
    async with database.engine.connect() as conn:
        return await conn.scalar(select(Account.password_hash).where(Account.dossier_number == number))


async def session_candidate(request: Request, tokens: TokensDep) -> str | None:
    """The dossier number the session cookie names, if it is signed, unexpired, a candidate's,
    not ended by its logout, and opened with the account's current password; None otherwise."""
    token = session_token(request)
    claim = tokens.read(token) if token else None
    if claim is None or not claim.subject.startswith(CANDIDATE):
        return None
    number = claim.subject.removeprefix(CANDIDATE)
    async with request.app.state.database.engine.connect() as conn:
        row = (
            await conn.execute(
                select(Account.password_hash, session_revoked(claim.session_id)).where(Account.dossier_number == number)
            )
        ).first()
    if row is None or row[1] or not tokens.still_valid(claim, row[0]):
        return None
    logs.note_dossier(number)
    return number


async def current_candidate(number: Annotated[str | None, Depends(session_candidate)]) -> str:
    """The dossier number of the logged-in candidate; a candidate reaches only their own."""
    if number is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Veuillez vous connecter à votre espace sécurisé.")
    return number


CurrentCandidate = Annotated[str, Depends(current_candidate)]
