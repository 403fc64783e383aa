"""Who may call what: the dependencies every route declares.

They are `async def` although they do not await: FastAPI runs plain `def` dependencies in a
thread pool, a thread hop per dependency per request for what is an attribute read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from infra.files import FileStore
from infra.settings import Settings
from web.dossiers import DossierGateway
from web.security import SessionTokens

SESSION_COOKIE = "inscriptions_session"
CANDIDATE = "candidate:"


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request):
    async with request.app.state.database.sessions() as session:
        yield session


async def get_gateway(request: Request) -> DossierGateway:
    return request.app.state.gateway


async def get_tokens(request: Request) -> SessionTokens:
    return request.app.state.tokens


async def get_files(request: Request) -> FileStore:
    return request.app.state.files


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_db)]
GatewayDep = Annotated[DossierGateway, Depends(get_gateway)]
TokensDep = Annotated[SessionTokens, Depends(get_tokens)]
FilesDep = Annotated[FileStore, Depends(get_files)]


async def current_candidate(request: Request, tokens: TokensDep) -> str:
    """The dossier number of the logged-in candidate; a candidate reaches only their own."""
    token = request.cookies.get(SESSION_COOKIE)
    subject = tokens.read(token) if token else None
    if not subject or not subject.startswith(CANDIDATE):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Veuillez vous connecter à votre espace sécurisé.")
    return subject.removeprefix(CANDIDATE)


CurrentCandidate = Annotated[str, Depends(current_candidate)]
