"""Dossier lists for staff, read from Temporal visibility: no list is kept anywhere else.

A page is one `ListWorkflowExecutions` call; its next-page token travels in the URL
(base64url), so paging costs the same on page 1 and page 200. Counts per status take one count
query each (the server groups by ExecutionStatus only), sent together. Visibility lags a
moment behind the dossiers: a decision just taken may show its new status a second later.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from temporalio.client import Client, WorkflowExecution

from domain.status import Status
from workflows import names
from workflows.visibility import DossierFilter, dossier_query, status_count_queries

PAGE_SIZE = 50


@dataclass
class DossierRow:
    number: str
    name: str
    campaign_id: str
    route: str
    status: Status | None
    started_at: datetime | None
    running: bool


@dataclass
class DossierPage:
    rows: list[DossierRow]
    next_token: str  # "" on the last page


def encode_token(token: bytes | None) -> str:
    return base64.urlsafe_b64encode(token).decode() if token else ""


def decode_token(token: str) -> bytes | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode())
    except (binascii.Error, ValueError):
        return None  # a mangled link starts from the first page


def _row(execution: WorkflowExecution) -> DossierRow:
    attrs = execution.typed_search_attributes
    status = attrs.get(names.STATUS)
    try:
        parsed = Status(status) if status else None
    except ValueError:
        parsed = None
    return DossierRow(
        number=attrs.get(names.DOSSIER_NUMBER) or execution.id,
        name=attrs.get(names.CANDIDATE_NAME) or "",
        campaign_id=attrs.get(names.CAMPAIGN) or "",
        route=attrs.get(names.ROUTE) or "",
        status=parsed,
        started_at=execution.start_time,
        running=execution.close_time is None,
    )


class Directory:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def page(self, f: DossierFilter, token: str = "", size: int = PAGE_SIZE) -> DossierPage:
        iterator = self.client.list_workflows(dossier_query(f), page_size=size, next_page_token=decode_token(token))
        await iterator.fetch_next_page()
        return DossierPage([_row(e) for e in iterator.current_page or []], encode_token(iterator.next_page_token))

    async def counts(self, f: DossierFilter) -> dict[Status, int]:
        queries = status_count_queries(f)
        results = await asyncio.gather(*(self.client.count_workflows(q) for q in queries.values()))
        return {status: result.count for status, result in zip(queries, results, strict=True)}
