"""Fixtures of the web tests: candidates with their own browser-like client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from infra.database import Database
from tests.web.pages import Candidate, client, log_in_as, open_campaign, preregister
from web import security

NewCandidate = Callable[..., Awaitable[Candidate]]


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id at minimal cost in the web tests: production parameters take about half a
    second per hash here, and these tests hash and check dozens of passwords. The code path is
    the same (argon2id, checked by the same function; a hash carries its own parameters)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture
async def new_candidate(app: FastAPI, database: Database) -> AsyncIterator[NewCandidate]:
    """`await new_candidate(campaign_id=None, **form_overrides)`: pre-registered through the API
    and logged in, each with a client (cookie jar) of their own."""
    clients: list[httpx.AsyncClient] = []

    async def make(campaign_id: str | None = None, **overrides) -> Candidate:
        http = client(app)
        clients.append(http)
        if campaign_id is None:
            campaign_id = (await open_campaign(database)).id
        number, data = await preregister(http, campaign_id, **overrides)
        await log_in_as(app, http, number)
        return Candidate(number=number, password=data["password"], email=data["email"], http=http)

    yield make
    for http in clients:
        await http.aclose()
