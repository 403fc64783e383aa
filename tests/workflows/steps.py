"""Steps shared by the workflow tests: move the clock, read the dossier, send messages."""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
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


def upload(ref: str, category: str, at: datetime) -> UploadedDocument:
    return UploadedDocument(
        ref=ref, category=category, filename=f"{category}.pdf", size=1234, sha256="0" * 64,
        content_type="application/pdf", uploaded_at=at,
    )


def deposit(ref: str, kind: CentreDocumentKind, title: str, exam: str | None = None) -> CentreDocument:
    placeholder = datetime.fromtimestamp(0).astimezone()
    return CentreDocument(ref=ref, kind=kind, title=title, exam_code=exam,
                          deposited_at=placeholder, release_at=placeholder)


async def refused(coro) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await coro
    assert info.value.cause.type == REFUSAL  # type: ignore[union-attr]
    return info.value.cause.message  # type: ignore[union-attr]


def mail_counts(sink: MailSink, number: str) -> Counter[str]:
    return Counter(m.subject.split(" —")[0].split(" :")[0] for m in sink.for_dossier(number))


async def record_history(handle: WorkflowHandle, name: str) -> None:
    """Replay the history now against the current code; keep it when RECORD_HISTORIES=1."""
    history = await handle.fetch_history()
    await Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER).replay_workflow(history)
    if os.environ.get("RECORD_HISTORIES"):
        HISTORIES.mkdir(parents=True, exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1))
