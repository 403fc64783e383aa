"""The login limiter's state on PostgreSQL: parallel wrong passwords against one dossier get at
most the limit's tries (counted atomically in the shared table), the rest wait (429)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from infra.database import Database
from tests.web.pages import client, open_campaign, preregister
from web.login import LOGIN_LIMITS


async def test_parallel_wrong_logins_get_the_limit_and_no_more(pg_app: FastAPI, pg_database: Database) -> None:
    campaign = await open_campaign(pg_database)
    async with client(pg_app) as http:
        number, data = await preregister(http, campaign.id)

        async def attempt() -> int:
            response = await http.post("/api/session", json={"dossier_number": number, "password": "Mauvais-123"})
            return response.status_code

        statuses = await asyncio.gather(*(attempt() for _ in range(12)))
        right = await http.post("/api/session", json={"dossier_number": number, "password": data["password"]})

    limit = LOGIN_LIMITS.per_identifier.limit
    assert sorted(statuses) == [401] * limit + [429] * (12 - limit)
    assert right.status_code == 429  # the right password waits too: guessing learns nothing
