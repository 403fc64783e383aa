"""Rate limits counted in the shared database before the work they guard: parallel guesses get
no more tries than the limit, two web processes count together, long identifiers cannot make
long keys, and ended windows are purged."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from infra.database import Database, RateLimitCount
from infra.settings import Settings
from tests.web.conftest import NewCandidate
from tests.web.pages import from_address
from web import ratelimit
from web.app import create_app


def some_address() -> str:
    return (
        f"198.51.100.{random.randrange(1, 255)}" if random.random() < 0.5 else f"203.0.113.{random.randrange(1, 255)}"
    )


async def test_parallel_wrong_logins_get_no_more_guesses_than_the_limit(
    app: FastAPI, new_candidate: NewCandidate
) -> None:
    candidate = await new_candidate()
    async with from_address(app, some_address()) as http:

        async def guess(n: int) -> int:
            wrong = {"dossier_number": candidate.number, "password": f"Devine-{n:04d}-xyz"}
            return (await http.post("/api/session", json=wrong)).status_code

        answers = Counter(await asyncio.gather(*(guess(n) for n in range(12))))
        assert answers == {401: 5, 429: 7}  # five guesses checked, whatever the concurrency
        right = await http.post(
            "/api/session", json={"dossier_number": candidate.number, "password": candidate.password}
        )
        assert right.status_code == 429


async def test_a_success_gives_its_attempt_back_and_clears_the_dossier_count(
    app: FastAPI, new_candidate: NewCandidate
) -> None:
    candidate = await new_candidate()
    async with from_address(app, some_address()) as http:
        for _ in range(2):
            for n in range(4):
                wrong = {"dossier_number": candidate.number, "password": f"Devine-{n:04d}-xyz"}
                assert (await http.post("/api/session", json=wrong)).status_code == 401
            right = {"dossier_number": candidate.number, "password": candidate.password}
            assert (await http.post("/api/session", json=right)).status_code == 200


async def test_two_web_processes_share_the_counts(
    app: FastAPI, settings: Settings, new_candidate: NewCandidate
) -> None:
    candidate = await new_candidate()
    other = create_app(settings)  # a second web process on the same database
    address = some_address()
    async with (
        other.router.lifespan_context(other),
        from_address(app, address) as one,
        from_address(other, address) as two,
    ):
        for n, http in enumerate([one, two, one, two, one]):
            wrong = {"dossier_number": candidate.number, "password": f"Devine-{n:04d}-xyz"}
            assert (await http.post("/api/session", json=wrong)).status_code == 401
        blocked = await two.post("/api/session", json={"dossier_number": candidate.number, "password": "Autre-9-xyz"})
        assert blocked.status_code == 429
        assert "Trop de tentatives de connexion" in blocked.json()["detail"]


async def test_identifiers_are_cut_before_they_become_keys(app: FastAPI, database: Database) -> None:
    address = some_address()
    async with from_address(app, address) as http:
        huge = "A" * 5000
        api = await http.post("/api/session", json={"dossier_number": huge, "password": "Devine-0000-xyz"})
        assert api.status_code == 422
        page = await http.get("/connexion")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = await http.post("/connexion", data={"dossier_number": huge, "password": "x", "csrf_token": token})
        assert form.status_code == 401
    async with database.sessions() as session:
        keys = (await session.scalars(select(RateLimitCount.key).where(RateLimitCount.key.contains(address)))).all()
    assert keys and max(len(k) for k in keys) <= len("login|") + len(address) + 1 + ratelimit.MAX_IDENTIFIER


async def test_ended_windows_are_purged(
    app: FastAPI, database: Database, new_candidate: NewCandidate, monkeypatch: pytest.MonkeyPatch
) -> None:
    candidate = await new_candidate()
    async with from_address(app, some_address()) as http:
        wrong = {"dossier_number": candidate.number, "password": "Devine-0000-xyz"}
        assert (await http.post("/api/session", json=wrong)).status_code == 401
        # A day later (every window is an hour at most), the next attempt purges what ended.
        later = ratelimit.SharedCounter(clock=lambda: ratelimit.time.time() + 24 * 3600)
        monkeypatch.setattr(ratelimit, "COUNTER", later)
        assert (await http.post("/api/session", json=wrong)).status_code == 401
    async with database.sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(RateLimitCount))
    assert rows == 2  # only this attempt's own two counters (address, address and dossier)
