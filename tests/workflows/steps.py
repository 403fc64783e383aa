"""Steps shared by the workflow tests: move the clock, read the dossier, send messages."""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from devtools.mail_sink import MailSink
from domain.calendar import local_instant, to_local
from domain.documents import CentreDocument, CentreDocumentKind, UploadedDocument
from domain.dossier import Dossier
from domain.status import Status
from infra.temporal import DATA_CONVERTER
from tests.conftest import eventually
from worker import WORKFLOWS
from workflows.dossier import REFUSAL, DossierWorkflow

PARIS = "Europe/Paris"
HISTORIES = Path(__file__).parent.parent / "replay" / "histories"


async def skip_to(env: WorkflowEnvironment, instant: datetime) -> None:
    now = await env.get_current_time()
    if instant > now:
        await env.sleep(instant - now)


def next_weekday_at(after: datetime, weekday: int, at: time) -> datetime:
    """The first `weekday` (0 = Monday) strictly after `after`'s day, at `at` Paris time."""
    day = to_local(after, PARIS).date() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return local_instant(day, at, PARIS)


async def view(handle: WorkflowHandle) -> Dossier:
    return await handle.query(DossierWorkflow.view)


async def status_becomes(handle: WorkflowHandle, status: Status) -> Dossier:
    async def reached() -> Dossier | None:
        dossier = await view(handle)
        return dossier if dossier.status is status else None

    return await eventually(reached)


async def signals_handled(handle: WorkflowHandle, name: str, count: int) -> None:
    """Wait until the history holds `count` signals `name` (or more) and a completed workflow
    task after the last of them: the worker has run their handlers. (A signal that arrives while
    a task is running is written after that task's completion, so a completion that follows the
    signal belongs to a task that delivered it.)"""

    async def handled() -> bool:
        events = [e async for e in handle.fetch_history_events()]
        signalled = [
            i
            for i, e in enumerate(events)
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
            and e.workflow_execution_signaled_event_attributes.signal_name == name
        ]
        return len(signalled) >= count and any(
            e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED for e in events[signalled[-1] + 1 :]
        )

    await eventually(handled)


async def mails_settled(handle: WorkflowHandle, timeout: float = 15.0) -> Dossier:
    """The dossier once every email it queued has gone out: the outbox is empty (an email leaves
    it only when its activity completed, after the SMTP server took it) and no activity is
    pending. From then on the SMTP sink holds everything this dossier will have sent."""

    async def settled() -> Dossier | None:
        dossier = await view(handle)
        if dossier.outbox or (await handle.describe()).raw_description.pending_activities:
            return None
        return dossier

    return await eventually(settled, timeout=timeout)


def upload(ref: str, category: str, at: datetime) -> UploadedDocument:
    return UploadedDocument(
        ref=ref,
        category=category,
        filename=f"{category}.pdf",
        size=1234,
        sha256="0" * 64,
        content_type="application/pdf",
        uploaded_at=at,
    )


def deposit(ref: str, kind: CentreDocumentKind, title: str, exam: str | None = None) -> CentreDocument:
    placeholder = datetime.fromtimestamp(0).astimezone()
    return CentreDocument(
        ref=ref, kind=kind, title=title, exam_code=exam, deposited_at=placeholder, release_at=placeholder
    )


async def refused(coro) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await coro
    cause = info.value.cause
    assert isinstance(cause, ApplicationError), cause
    assert cause.type == REFUSAL
    return cause.message


def mail_counts(sink: MailSink, number: str) -> Counter[str]:
    return Counter(m.subject.split(" —")[0].split(" :")[0] for m in sink.for_dossier(number))


async def record_history(handle: WorkflowHandle, name: str) -> None:
    """Replay the history now against the current code; keep it when RECORD_HISTORIES=1."""
    history = await handle.fetch_history()
    await Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER).replay_workflow(history)
    if os.environ.get("RECORD_HISTORIES"):
        HISTORIES.mkdir(parents=True, exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1))
