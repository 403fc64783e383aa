"""Admit every complete dossier of a campaign: 300 dossiers, a worker stopped mid-way, a new one
started with `build_worker`, every candidate admitted once and emailed once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from devtools.mail_sink import MailSink
from domain.status import Status
from infra.database import Database
from infra.settings import Settings
from tests.backoffice import dossiers, saved_campaign, view
from tests.conftest import eventually
from worker import build_worker
from workflows import names
from workflows.batch import BatchKind, BatchProgress, BatchRequest, BatchState, BatchWorkflow

COUNT = 300
ADMISSION_SUBJECT = "admis(e) à concourir"


def admission_mails(sink: MailSink, numbers: set[str]) -> Counter[str]:
    """Admission emails the SMTP sink received, per dossier."""
    return Counter(m.dossier for m in sink.messages if m.dossier in numbers and ADMISSION_SUBJECT in m.subject.lower())


async def test_bulk_admission_survives_a_worker_restart_and_admits_each_dossier_once(
    client: Client, settings: Settings, database: Database, prompt_queue: str, mail_sink: MailSink
) -> None:
    campaign = await saved_campaign(database)
    numbers = await dossiers(client, prompt_queue, campaign, COUNT, Status.COMPLETE)
    # Its own task queue, so this test can stop "the" worker without touching the session's.
    batch_settings = settings.model_copy(update={"task_queue": f"batch-{uuid.uuid4().hex[:8]}"})
    request = BatchRequest(
        BatchKind.ADMIT_COMPLETE,
        campaign.id,
        requested_by="test",
        page_size=50,
        chunks_per_run=2,
        concurrency=16,
        heartbeat_seconds=3,
    )
    workflow_id = names.batch_workflow_id(request.kind.value, campaign.id)
    first = build_worker(client, batch_settings, database)
    first_task = asyncio.create_task(first.run())
    handle = await client.start_workflow(
        BatchWorkflow.run,
        BatchState(request),
        id=workflow_id,
        task_queue=batch_settings.task_queue,
        search_attributes=TypedSearchAttributes([SearchAttributePair(names.CAMPAIGN, campaign.id)]),
    )

    async def progress() -> BatchProgress:
        return await handle.query(names.BATCH_PROGRESS, result_type=BatchProgress)

    # Progress is visible while it runs; stop the worker in the middle.
    mid = await eventually(lambda: _at_least(progress, 100), timeout=60)
    assert mid.total == COUNT and mid.processed < COUNT
    await first.shutdown()  # in-flight activity cancelled: its chunk will be sent again
    await first_task

    # A new worker, as a restarted process would build it, takes the batch where it was.
    async with build_worker(client, batch_settings, database):
        result: BatchProgress = await asyncio.wait_for(handle.result(), timeout=90)
    assert result.total == COUNT
    assert result.processed == COUNT
    assert result.applied + result.refused == COUNT
    assert result.runs >= 3  # continued as new every two pages
    assert result.finished_at is not None

    # Every dossier admitted, each exactly once: one admission in its timeline, one email.
    await eventually(lambda: _count(client, campaign.id, Status.ADMITTED, COUNT), timeout=20)
    wanted = set(numbers)
    mails = await eventually(lambda: _all_mailed(mail_sink, wanted), timeout=60)
    assert set(mails.values()) == {1}, {n: c for n, c in mails.items() if c != 1}
    limit = asyncio.Semaphore(20)

    async def admissions(number: str) -> int:
        async with limit:
            dossier = await view(client, number)
        return sum(1 for t in dossier.timeline if t.code == str(Status.ADMITTED))

    assert set(await asyncio.gather(*(admissions(n) for n in numbers))) == {1}
    assert set(admission_mails(mail_sink, wanted).values()) == {1}  # nothing arrived late either


async def _at_least(progress, processed: int) -> BatchProgress | None:
    p = await progress()
    return p if p.processed >= processed else None


async def _count(client: Client, campaign_id: str, status: Status, count: int) -> bool:
    query = f"{names.CAMPAIGN.name} = '{campaign_id}' AND {names.STATUS.name} = '{status}'"
    return (await client.count_workflows(query)).count == count


def _all_mailed(sink: MailSink, wanted: set[str]) -> Counter[str] | None:
    mails = admission_mails(sink, wanted)
    return mails if set(mails) == wanted else None
