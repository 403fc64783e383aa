"""The operators' live view (`/staff/direct`) on the real stack: a worker serving its metrics (as
`worker.main` does), the web scraping them; a candidate's validation shows in the count, the
chart's data table and the dossiers by status; instructors are kept out."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client

from infra.database import Database
from infra.settings import Settings
from infra.staff_accounts import StaffRole
from infra.telemetry import prometheus_runtime
from infra.temporal import DATA_CONVERTER
from tests.backoffice import new_staff, staff_client
from tests.conftest import eventually, free_port
from tests.web.pages import client, open_campaign, preregister, submit, text_of, token_in
from web.app import create_app
from worker import build_worker


@dataclass
class Stack:
    app: FastAPI
    worker_metrics: str


@pytest.fixture(scope="module")
async def stack(client: Client, settings: Settings, database: Database) -> AsyncIterator[Stack]:
    address = f"127.0.0.1:{free_port()}"
    own = await Client.connect(
        client.service_client.config.target_host, data_converter=DATA_CONVERTER, runtime=prometheus_runtime(address)
    )
    url = f"http://{address}/metrics"
    queue_settings = settings.model_copy(
        update={"task_queue": f"live-{uuid.uuid4().hex[:8]}", "live_view_worker_metrics": url}
    )
    app = create_app(queue_settings)
    async with build_worker(own, queue_settings, database), app.router.lifespan_context(app):
        yield Stack(app, url)


def figure(page: httpx.Response, name: str) -> int:
    match = re.search(rf'data-figure="{name}">(\d+)<', page.text)
    assert match, name
    return int(match.group(1))


def table(page: httpx.Response, table_id: str) -> list[list[str]]:
    """The rows of a table of the page, as the cells' text."""
    body = re.search(rf'<table class="wide" id="{re.escape(table_id)}">.*?<tbody>(.*?)</tbody>', page.text, re.S)
    assert body, table_id
    cells = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
    return [
        [text_of(httpx.Response(200, text=cell)).strip() for cell in cells.findall(row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


async def test_a_validation_shows_in_the_live_view(stack: Stack, database: Database) -> None:
    campaign = await open_campaign(database)
    operator = await staff_client(stack.app, await new_staff(database, StaffRole.OPERATOR))
    live = f"/staff/direct?session={campaign.id}"

    before = await operator.get(live)
    assert before.status_code == 200
    assert '<meta http-equiv="refresh" content="30">' in before.text  # refreshes itself, politely
    assert "<svg" in before.text  # the chart, drawn on the server
    assert table(before, "validations-table") == [["Aucune validation pendant ces 3 heures."]]
    assert table(before, f"statuts-{campaign.id}") == [["Aucun dossier."]]
    refused_before = figure(before, "logins_refused")  # the web's counters are per process

    web = client(stack.app)
    number, data = await preregister(web, campaign.id)
    wrong = await submit(web, "/connexion", {"dossier_number": number, "password": "Pas-le-bon-1"})
    assert wrong.status_code == 401
    right = await submit(web, "/connexion", {"dossier_number": number, "password": data["password"]})
    assert right.status_code == 303
    token = token_in(await web.get("/espace/validation"))
    sworn = {"csrf_token": token, "sworn_statement": "oui"}
    assert (await web.post("/espace/validation", data=sworn)).status_code == 303
    await web.aclose()

    async def shown() -> httpx.Response | None:
        page = await operator.get(live)
        return page if "1 validation(s) en 3 heures" in page.text else None

    page = await eventually(shown, timeout=30)
    rows = table(page, "validations-table")
    assert len(rows) == 1 and rows[0][1:] == ["1", "1"]  # the minute, this campaign's column, the total
    assert re.fullmatch(r"\d\d:\d\d", rows[0][0])

    async def transferred() -> httpx.Response | None:
        page = await operator.get(live)
        return page if table(page, f"statuts-{campaign.id}") == [["En cours de transfert", "1"]] else None

    page = await eventually(transferred, timeout=30)
    # Read from the worker's endpoint: the pre-registration's and the validation's mails.
    assert figure(page, "mails_queued") == 2
    assert figure(page, "mails_sent") >= 2
    assert figure(page, "logins_refused") == refused_before + 1
    sources = table(page, "sources")
    assert ["worker", stack.worker_metrics, "lu"] in sources
    assert number not in page.text  # counts only: no dossier number, no name, no address
    assert data["email"] not in page.text

    # Without the automatic refresh, a plain link does it.
    still = await operator.get(live + "&auto=0")
    assert "http-equiv" not in still.text and "Rafraîchir" in still.text
    await operator.aclose()


async def test_instructors_do_not_see_the_live_view(stack: Stack, database: Database) -> None:
    instructor = await staff_client(stack.app, await new_staff(database, StaffRole.INSTRUCTOR))
    assert (await instructor.get("/staff/direct")).status_code == 403
    await instructor.aclose()


async def test_an_unreachable_worker_endpoint_is_said_not_hidden(stack: Stack, database: Database) -> None:
    settings = stack.app.state.settings
    away = f"http://127.0.0.1:{free_port()}/metrics"
    stack.app.state.settings = settings.model_copy(update={"live_view_worker_metrics": away})
    try:
        operator = await staff_client(stack.app, await new_staff(database, StaffRole.ADMINISTRATOR))
        page = await operator.get("/staff/direct?session=aucune")
        await operator.aclose()
    finally:
        stack.app.state.settings = settings
    assert page.status_code == 200
    assert "Aucune session en cours" in page.text
    [row] = [r for r in table(page, "sources") if r[0] == "worker"]
    assert row[1] == away and row[2].startswith("INJOIGNABLE")
