"""Fixtures and helpers of the back-office tests (staff pages, bulk actions, operators' tools).

Import the fixtures into a conftest (`from tests.backoffice import prompt_queue, ...`).
Dossiers are started on their own task queue by the prompt-instruction worker
(`devtools.prompt_instruction`): the real dossier workflow, which goes under instruction at
validation instead of the next working day, so decisions can be tried on the real-time server.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from temporalio.client import Client

from devtools.prompt_instruction import build_prompt_worker, dossiers_at, wait_for_status_count
from domain.campaign import Campaign
from domain.documents import CentreDocument, CentreDocumentKind
from domain.dossier import Dossier
from domain.status import Status
from infra.database import Database, save_campaign
from infra.settings import Settings
from infra.staff_accounts import StaffAccount, StaffRole
from ops.staff_cli import create_account
from tests.factories import campaign as make_campaign
from tests.web.pages import client as http_client
from tests.web.pages import text_of, token_in
from web import security
from web.deps import SESSION_COOKIE
from web.staff.deps import STAFF
from workflows.dossier import DossierWorkflow

STAFF_PASSWORD = "Service-Concours-2027"


@pytest.fixture(scope="session", autouse=True)
def cheap_staff_hashing() -> Iterator[None]:
    """argon2id at minimal cost: the production parameters take half a second per hash; the
    code path (argon2id, same verify function) is unchanged."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(scope="session")
async def prompt_queue(client: Client, settings: Settings, database: Database) -> AsyncIterator[str]:
    queue = f"prompt-{uuid.uuid4().hex[:8]}"
    async with build_prompt_worker(client, queue, settings, database):
        yield queue


async def saved_campaign(database: Database, **overrides: Any) -> Campaign:
    c = make_campaign(**overrides)
    async with database.sessions() as session:
        await save_campaign(session, c)
    return c


async def new_staff(database: Database, role: StaffRole, name: str = "Agent Test") -> str:
    login = f"{role.value[:4]}{uuid.uuid4().hex[:8]}"
    await create_account(database, login, name, role, STAFF_PASSWORD)
    return login


async def staff_client(app: FastAPI, login: str) -> httpx.AsyncClient:
    """A client holding the session the login page opens for `login`, bound to the account's
    current password (the login itself has its own tests)."""
    async with app.state.database.sessions() as session:
        account = await session.get(StaffAccount, login)
    assert account is not None, login
    http = http_client(app)
    http.cookies.set(SESSION_COOKIE, app.state.tokens.issue(STAFF + login, account.password_hash))
    return http


@pytest.fixture
async def staff(app: FastAPI, database: Database) -> AsyncIterator[Any]:
    """`await staff(StaffRole.INSTRUCTOR)`: a logged-in client for a new account of that role."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: StaffRole = StaffRole.ADMINISTRATOR) -> httpx.AsyncClient:
        http = await staff_client(app, await new_staff(database, role))
        clients.append(http)
        return http

    yield make
    for http in clients:
        await http.aclose()


async def post_form(
    http: httpx.AsyncClient, page: str, action: str, data: dict | None = None, files: dict | None = None
) -> httpx.Response:
    """GET the page holding the form, then POST to `action` with its CSRF token."""
    shown = await http.get(page)
    assert shown.status_code == 200, f"{page}: {shown.status_code} {text_of(shown)[:300]}"
    return await http.post(action, data={**(data or {}), "csrf_token": token_in(shown)}, files=files)


async def dossiers(client: Client, queue: str, campaign: Campaign, count: int, status: Status, **kw: Any) -> list[str]:
    numbers = await dossiers_at(client, queue, campaign, count, status, **kw)
    await wait_for_status_count(client, campaign.id, status, count)
    return numbers


async def view(client: Client, number: str) -> Dossier:
    return await client.get_workflow_handle_for(DossierWorkflow.run, number).query(DossierWorkflow.view)


async def letters_of(client: Client, number: str, kind: CentreDocumentKind) -> list[CentreDocument]:
    """The dossier's documents of one kind (empty until the workflow has deposited one)."""
    return [d for d in (await view(client, number)).documents if d.kind is kind]


def error_of(response: httpx.Response) -> str:
    """The refusal shown at the top of a page."""
    match = re.search(r'<div class="notice notice-error" role="alert"[^>]*>.*?<p>(.*?)</p>', response.text, re.S)
    return text_of(httpx.Response(200, text=match.group(1))).strip() if match else ""
