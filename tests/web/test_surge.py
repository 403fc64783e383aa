"""Deadline night on the web side: requests and hashes taken in turn, old hashes replaced at
login, no database connection held while a hash runs, a full pool answered 503 and a late Update
202."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from functools import partial

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import select, update

from infra.database import Account, Database
from infra.settings import Settings
from infra.staff_accounts import StaffAccount, StaffRole
from tests.backoffice import STAFF_PASSWORD, new_staff
from tests.conftest import eventually
from tests.web.conftest import NewCandidate
from tests.web.pages import client, submit, text_of, token_in
from web import login as login_module
from web import security
from web.app import create_app
from web.middleware import RequestQueueMiddleware
from web.security import HASHES, HashLimiter
from workflows.client import Pending

OLD_PARAMETERS = PasswordHasher(time_cost=1, memory_cost=2048, parallelism=1)  # not today's


class Probe:
    """A stand-in for a hash: records how many run at once, each waits for its own release."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.started: list[int] = []
        self.release: dict[int, threading.Event] = {}

    def __call__(self, i: int) -> int:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.started.append(i)
        self.release[i].wait(timeout=60)
        with self.lock:
            self.running -= 1
        return i


async def test_hashes_run_at_most_k_at_once_and_in_arrival_order() -> None:
    k = HASHES.slots
    n = k + 5
    probe = Probe()
    probe.release = {i: threading.Event() for i in range(n)}
    calls = [asyncio.create_task(HASHES.run(probe, i)) for i in range(n)]
    await eventually(lambda: len(probe.started) == k)
    assert sorted(probe.started) == list(range(k))
    # Each hash that ends lets in exactly the next one in line.
    for done, following in zip(range(n - k), range(k, n), strict=True):
        probe.release[done].set()
        await eventually(partial(list.__contains__, probe.started, following))
        assert probe.started[-1] == following
    for event in probe.release.values():
        event.set()
    assert await asyncio.gather(*calls) == list(range(n))
    assert probe.peak == k


async def test_a_login_rehashes_an_old_hash_and_its_session_uses_the_new_one(
    app: FastAPI, database: Database, new_candidate: NewCandidate
) -> None:
    candidate = await new_candidate()  # its client holds a session opened with the hash of today
    old_hash = OLD_PARAMETERS.hash(candidate.password)
    async with database.sessions() as session:
        await session.execute(
            update(Account).where(Account.dossier_number == candidate.number).values(password_hash=old_hash)
        )
        await session.commit()
    async with client(app) as http:
        await log_in_page(http, candidate.number, candidate.password, "/connexion", "dossier_number")
        async with database.sessions() as session:
            saved = await session.scalar(
                select(Account.password_hash).where(Account.dossier_number == candidate.number)
            )
        assert saved is not None and saved != old_hash
        assert not security._hasher.check_needs_rehash(saved)
        assert (await http.get("/espace")).status_code == 200  # this login's session: the new hash
    # A session bound to the old hash ends (once, at the first login after a parameter change).
    assert (await candidate.http.get("/espace")).status_code == 303


async def test_a_staff_login_rehashes_an_old_hash(app: FastAPI, database: Database) -> None:
    login = await new_staff(database, StaffRole.INSTRUCTOR)
    old_hash = OLD_PARAMETERS.hash(STAFF_PASSWORD)
    async with database.sessions() as session:
        await session.execute(update(StaffAccount).where(StaffAccount.login == login).values(password_hash=old_hash))
        await session.commit()
    async with client(app) as http:
        await log_in_page(http, login, STAFF_PASSWORD, "/staff/connexion", "login")
        async with database.sessions() as session:
            saved = await session.scalar(select(StaffAccount.password_hash).where(StaffAccount.login == login))
        assert saved is not None and saved != old_hash and not security._hasher.check_needs_rehash(saved)
        assert (await http.get("/staff/dossiers")).status_code == 200


async def log_in_page(http, who: str, password: str, path: str, field: str) -> None:
    answer = await submit(http, path, {field: who, "password": password})
    assert answer.status_code == 303, text_of(answer)


@pytest.fixture
async def tiny_pool(app: FastAPI, database: Database) -> AsyncIterator[Database]:
    """The app on a pool of one connection that gives up after 0.2 s."""
    tiny = Database(str(database.engine.url), pool_size=1, max_overflow=0, pool_timeout=0.2)
    usual = app.state.database  # set back by hand: starlette's State does not undo a monkeypatch
    app.state.database = tiny
    try:
        yield tiny
    finally:
        app.state.database = usual
        await tiny.dispose()


async def test_an_exhausted_pool_is_a_503_page_with_retry_after(app: FastAPI, tiny_pool: Database) -> None:
    async with client(app) as http:
        async with tiny_pool.engine.connect():  # every connection taken
            page = await http.get("/")
            api = await http.get("/api/campagnes")
        assert page.status_code == 503 and page.headers["retry-after"]
        assert "beaucoup de demandes" in text_of(page)
        assert api.status_code == 503 and "beaucoup de demandes" in api.json()["detail"]
        assert (await http.get("/")).status_code == 200  # and it recovers


async def test_no_connection_is_held_while_a_login_hash_runs(
    app: FastAPI, tiny_pool: Database, new_candidate: NewCandidate, monkeypatch: pytest.MonkeyPatch
) -> None:
    candidate = await new_candidate()
    in_hash, release = threading.Event(), threading.Event()
    real: Callable[[str, str], bool] = security.verify_password

    def slow_verify(password_hash: str, password: str) -> bool:
        in_hash.set()
        release.wait(timeout=60)
        return real(password_hash, password)

    monkeypatch.setattr(security, "verify_password", slow_verify)
    async with client(app) as http:
        form = await http.get("/connexion")
        login = asyncio.create_task(
            http.post(
                "/connexion",
                data={"dossier_number": candidate.number, "password": candidate.password, "csrf_token": token_in(form)},
            )
        )
        await eventually(in_hash.is_set)
        async with tiny_pool.engine.connect():  # the pool's one connection is free meanwhile
            pass
        release.set()
        assert (await login).status_code == 303


async def test_a_late_update_is_a_202_saying_received_and_being_recorded(
    app: FastAPI, new_candidate: NewCandidate, monkeypatch: pytest.MonkeyPatch
) -> None:
    candidate = await new_candidate()

    async def late(*args, **kwargs):
        raise Pending("u-42")

    monkeypatch.setattr(app.state.client, "update", late)
    page = await submit(candidate.http, "/espace/validation", {"sworn_statement": "oui"})
    assert page.status_code == 202
    assert "en cours d'enregistrement" in text_of(page) and "tableau de bord" in text_of(page)
    api = await candidate.http.post("/api/dossier/validation", json={"sworn_statement": True})
    assert api.status_code == 202 and "en cours d'enregistrement" in api.json()["detail"]


def request_queue(app: FastAPI) -> RequestQueueMiddleware:
    """The app's queue at the door, found down its middleware stack (built at its first request)."""
    layer: object = app.middleware_stack
    while not isinstance(layer, RequestQueueMiddleware):
        layer = getattr(layer, "app")  # noqa: B009 (each middleware keeps the next as `app`)
    return layer


async def test_a_surge_beyond_the_slots_waits_at_the_door_in_order_and_every_request_is_answered(
    settings: Settings, database: Database, new_candidate: NewCandidate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One request at a time: while a login is in its password check (four could run at once),
    the next two wait at the door, nothing refused and the health probe still answered; then
    each gets its turn in the order it arrived."""
    candidates = [await new_candidate() for _ in range(3)]
    async with database.sessions() as session:
        hashes = {
            h: n
            for n, h in (
                await session.execute(
                    select(Account.dossier_number, Account.password_hash).where(
                        Account.dossier_number.in_([c.number for c in candidates])
                    )
                )
            ).all()
        }
    checked: list[str] = []
    release = {c.number: threading.Event() for c in candidates}
    real: Callable[[str, str], bool] = security.verify_password

    def held_verify(password_hash: str, password: str) -> bool:
        number = hashes[password_hash]
        checked.append(number)
        release[number].wait(timeout=60)
        return real(password_hash, password)

    monkeypatch.setattr(security, "verify_password", held_verify)
    monkeypatch.setattr(login_module, "HASHES", HashLimiter(4))
    one_at_a_time = create_app(settings.model_copy(update={"web_requests_at_once": 1}))
    async with one_at_a_time.router.lifespan_context(one_at_a_time):
        clients = [client(one_at_a_time) for _ in candidates]
        try:
            forms = [await http.get("/connexion") for http in clients]
            door = request_queue(one_at_a_time)

            def log_in(i: int) -> asyncio.Task:
                data = {"dossier_number": candidates[i].number, "password": candidates[i].password}
                return asyncio.create_task(
                    clients[i].post("/connexion", data={**data, "csrf_token": token_in(forms[i])})
                )

            first = log_in(0)
            await eventually(lambda: checked == [candidates[0].number])
            second = log_in(1)
            await eventually(lambda: door.slots.waiting == 1)
            third = log_in(2)
            await eventually(lambda: door.slots.waiting == 2)
            async with client(one_at_a_time) as probe:
                assert (await probe.get("/healthz")).status_code == 200
            assert checked == [candidates[0].number]  # the others never got in meanwhile
            for c in candidates:
                release[c.number].set()
            answers = await asyncio.gather(first, second, third)
            assert [a.status_code for a in answers] == [303, 303, 303]
            assert checked == [c.number for c in candidates]
            assert "queue;dur=" in answers[2].headers["server-timing"]
        finally:
            for http in clients:
                await http.aclose()
