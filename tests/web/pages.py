"""Helpers for the page tests: forms with their CSRF token, candidates ready to browse, PDFs."""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from pypdf import PdfReader
from temporalio.client import Client

from domain.campaign import Campaign
from domain.documents import CentreDocument, CentreDocumentKind
from infra.database import Database, StoredFile, save_campaign
from infra.files import FileStore
from tests.factories import campaign, form
from web.deps import CANDIDATE, SESSION_COOKIE, candidate_password_hash
from workflows.dossier import DossierWorkflow

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

# Smallest valid files of each kind, as `filetype` recognises them by their first bytes.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 64
EXE = b"MZ\x90\x00" + b"\x00" * 200  # a Windows executable renamed .pdf


async def open_campaign(database: Database, **kwargs: Any) -> Campaign:
    c = campaign(**kwargs)
    async with database.sessions() as session:
        await save_campaign(session, c)
    return c


def token_in(page: httpx.Response) -> str:
    match = CSRF.search(page.text)
    assert match, f"no CSRF token on {page.request.url}: {page.status_code}"
    return html.unescape(match.group(1))


async def submit(
    http: httpx.AsyncClient,
    action: str,
    data: dict | None = None,
    *,
    page: str | None = None,
    files: dict | None = None,
) -> httpx.Response:
    """GET the page holding the form (the action itself by default), then POST it with its token."""
    shown = await http.get(page or action)
    return await http.post(action, data={**(data or {}), "csrf_token": token_in(shown)}, files=files)


def text_of(response: httpx.Response) -> str:
    """The page's text with tags dropped and entities decoded, for wording checks."""
    body = re.sub(r"<[^>]+>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(body))


@dataclass
class Candidate:
    number: str
    password: str
    email: str
    http: httpx.AsyncClient


async def preregister(http: httpx.AsyncClient, campaign_id: str, **overrides: Any) -> tuple[str, dict]:
    data = form(campaign_id, **overrides)
    created = await http.post("/api/preinscriptions", json=data)
    assert created.status_code == 201, created.text
    return created.json()["dossier_number"], data


async def log_in_as(app: FastAPI, http: httpx.AsyncClient, number: str) -> None:
    """A session as the login page would open it, bound to the account's current password (the
    login itself is tested on its own; skipping its half-second argon2 check keeps the suite fast)."""
    password_hash = await candidate_password_hash(app.state.database, number)
    assert password_hash is not None, number
    http.cookies.set(SESSION_COOKIE, app.state.tokens.issue(CANDIDATE + number, password_hash))


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def from_address(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client whose requests come from `address`: rate limits count per address in the shared
    database, so a test of a limit uses an address of its own."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def pdf_text(data: bytes) -> str:
    """Text drawn in a PDF, extracted through its fonts' Unicode maps (pypdf): the embedded font
    writes glyph numbers, so the bytes of the page streams no longer read as text."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def deposit(
    client: Client,
    files: FileStore,
    database: Database,
    number: str,
    title: str,
    content: bytes = PDF,
    kind: CentreDocumentKind = CentreDocumentKind.LETTER,
) -> str:
    """What the staff back office does: store the file, then the workflow's `deposit_document`
    (a letter is released at once). Returns the document's reference."""
    ref, sha256 = files.save(content)
    async with database.sessions() as session:
        session.add(
            StoredFile(
                ref=ref,
                dossier_number=number,
                filename=f"{title}.pdf",
                content_type="application/pdf",
                size=len(content),
                sha256=sha256,
            )
        )
        await session.commit()
    now = datetime.now(UTC)
    await client.get_workflow_handle(number).execute_update(
        DossierWorkflow.deposit_document,
        CentreDocument(ref=ref, kind=kind, title=title, exam_code=None, deposited_at=now, release_at=now),
    )
    return ref
