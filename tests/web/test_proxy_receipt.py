"""Behind the centre's reverse proxy, the instant the proxy received a request decides its
deadline (X-Request-Start), believed only from a trusted proxy and only when plausible."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client

from domain.status import Status
from infra.clock import now
from infra.database import Database
from infra.settings import Settings
from tests.conftest import eventually
from tests.web.pages import log_in_as, open_campaign, preregister, text_of, token_in
from web.app import create_app
from web.middleware import proxy_stamp
from workflows.client import WorkflowClient

PROXY = "10.9.8.7"  # the reverse proxy this deployment trusts
ELSEWHERE = "192.0.2.50"  # any other peer


@pytest.fixture
async def proxied_app(settings: Settings, app: FastAPI) -> AsyncIterator[FastAPI]:
    """The app as deployed behind a proxy (`app` brings the test worker that serves its dossiers)."""
    application = create_app(settings.model_copy(update={"forwarded_allow_ips": PROXY}))
    async with application.router.lifespan_context(application):
        yield application


def through(app: FastAPI, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def stamp(at: datetime) -> dict[str, str]:
    """What nginx sends with `proxy_set_header X-Request-Start "t=${msec}";`."""
    return {"X-Request-Start": f"t={at.timestamp():.3f}"}


async def validation_after_the_deadline(
    app: FastAPI, database: Database, peer: str, headers: Callable[[datetime], dict[str, str]]
) -> tuple[httpx.Response, str]:
    """A candidate opens the validation form while it is open; the POST reaches the app from
    `peer` after the deadline, with `headers(deadline)` (the proxy's stamp, or a forged one)."""
    c = await open_campaign(
        database, deadline_in=timedelta(seconds=3), reminders=[], receipt_delay=timedelta(minutes=5)
    )
    async with through(app, peer) as http:
        number, _ = await preregister(http, c.id)
        await log_in_as(app, http, number)
        form_page = await http.get("/espace/validation")
        assert 'class="button button-validate"' in form_page.text
        await eventually(lambda: now() > c.validation_deadline, timeout=20)
        response = await http.post(
            "/espace/validation",
            data={"sworn_statement": "oui", "csrf_token": token_in(form_page)},
            headers=headers(c.validation_deadline),
        )
    return response, number


async def status_of(client: Client, settings: Settings, number: str) -> Status:
    return (await WorkflowClient(client, settings.task_queue).view(number)).status


async def test_a_click_the_proxy_received_before_the_deadline_counts_however_late_the_app_sees_it(
    proxied_app: FastAPI, database: Database, client: Client, settings: Settings
) -> None:
    response, number = await validation_after_the_deadline(
        proxied_app, database, PROXY, lambda deadline: stamp(deadline - timedelta(seconds=1))
    )

    assert response.status_code == 303, text_of(response)
    assert await status_of(client, settings, number) is Status.TRANSFERRING


async def test_a_stamp_from_a_peer_that_is_not_the_proxy_is_ignored(
    proxied_app: FastAPI, database: Database, client: Client, settings: Settings
) -> None:
    # A candidate reaching the app directly cannot backdate their click.
    response, number = await validation_after_the_deadline(
        proxied_app, database, ELSEWHERE, lambda deadline: stamp(deadline - timedelta(seconds=1))
    )

    assert response.status_code == 409
    assert "est dépassée" in text_of(response)
    assert await status_of(client, settings, number) is Status.AWAITING_DOSSIER


async def test_an_implausible_stamp_from_the_proxy_is_not_believed_and_is_logged(
    proxied_app: FastAPI, database: Database, client: Client, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Ten minutes old: a replayed request or a proxy whose clock went wrong, not a queue.
    caplog.set_level(logging.WARNING, logger="web.middleware")
    response, number = await validation_after_the_deadline(
        proxied_app, database, PROXY, lambda deadline: stamp(deadline - timedelta(minutes=10))
    )

    assert response.status_code == 409
    assert await status_of(client, settings, number) is Status.AWAITING_DOSSIER
    assert any("X-Request-Start" in r.getMessage() and "not believable" in r.getMessage() for r in caplog.records)


async def test_without_a_trusted_proxy_the_header_is_ignored(
    app: FastAPI, database: Database, client: Client, settings: Settings
) -> None:
    # The default deployment trusts no proxy: the app's own instant decides.
    response, number = await validation_after_the_deadline(
        app, database, "127.0.0.1", lambda deadline: stamp(deadline - timedelta(seconds=1))
    )

    assert response.status_code == 409
    assert await status_of(client, settings, number) is Status.AWAITING_DOSSIER


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("t=1798761599.250", datetime(2026, 12, 31, 23, 59, 59, 250000, tzinfo=UTC)),  # nginx's ${msec}
        ("t=1798761599250", datetime(2026, 12, 31, 23, 59, 59, 250000, tzinfo=UTC)),  # milliseconds
        ("t=1798761599250000", datetime(2026, 12, 31, 23, 59, 59, 250000, tzinfo=UTC)),  # microseconds
        ("1798761599.250", datetime(2026, 12, 31, 23, 59, 59, 250000, tzinfo=UTC)),
        ("t=", None),
        ("t=soon", None),
        ("t=-5", None),
        ("t=nan", None),
        ("t=inf", None),
    ],
)
def test_proxy_stamps_are_read_in_the_proxies_formats(header: str, expected: datetime | None) -> None:
    assert proxy_stamp(header) == expected
