"""Structured logs: one JSON object per line, with the request id, the dossier number and the
staff account where there is one, and no personal data beyond the dossier number."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from infra import logs
from infra.database import Database
from infra.staff_accounts import StaffRole
from tests.conftest import eventually
from tests.web.pages import client, log_in_as, open_campaign, preregister

Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def lines() -> Iterator[Lines]:
    """`lines()`: the JSON lines written so far, through the formatter and filter that
    `logs.configure` installs (the tests do not call it: it would replace pytest's capture)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter())
    handler.addFilter(logs.ContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


async def test_request_and_worker_lines_name_the_dossier_and_nothing_personal(
    app: FastAPI, database: Database, staff: Any, lines: Lines
) -> None:
    campaign = await open_campaign(database)
    http = client(app)
    number, form = await preregister(http, campaign.id)
    await log_in_as(app, http, number)
    page = await http.get("/espace", headers={"X-Request-ID": "support-ticket-4242"})
    assert page.status_code == 200
    fresh = await http.get("/espace")
    await http.aclose()
    agent = await staff(StaffRole.INSTRUCTOR)
    assert (await agent.get(f"/staff/dossiers/{number}")).status_code == 200

    # The worker's line for the pre-registration mail names the dossier through its workflow.
    def mail_line() -> dict[str, Any] | None:
        return next((e for e in lines() if e.get("activity_type") == "send_mail" and e.get("dossier") == number), None)

    mail = await eventually(mail_line)
    assert mail["level"] == "INFO" and mail["logger"] == "temporalio.activity"

    requests = [e for e in lines() if e["logger"] == "web.request"]
    preregistered = next(e for e in requests if e["route"] == "/api/preinscriptions")
    assert preregistered["status"] == 201 and preregistered["request_id"]
    space = [e for e in requests if e["route"] == "/espace"]
    # A well-formed incoming request id is kept (support can quote it); otherwise a new one,
    # returned in the X-Request-ID header either way.
    assert space[0]["request_id"] == "support-ticket-4242" == page.headers["x-request-id"]
    assert space[1]["request_id"] == fresh.headers["x-request-id"] != "support-ticket-4242"
    assert all(e["dossier"] == number and e["method"] == "GET" and e["status"] == 200 for e in space)
    staff_page = next(e for e in requests if e["route"] == "/staff/dossiers/{number}")
    assert staff_page["dossier"] == number and staff_page["staff"].startswith("inst")

    # Nothing personal but the dossier number: no name, address, password.
    # (The test's own SMTP sink, aiosmtpd's `mail.log`, logs recipients: it is not the product.)
    text = json.dumps([e for e in lines() if not e["logger"].startswith("mail.")], ensure_ascii=False)
    for personal in (form["email"], form["last_name"], form["first_name"], form["password"]):
        assert personal not in text
