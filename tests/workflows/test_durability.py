"""Durability on the real dev server: a worker killed mid-lifecycle (SIGKILL, not a polite stop)
during an SMTP outage, and restarted, loses nothing and sends each email exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment

from activities.mail import Mailer
from devtools.mail_sink import MailSink
from domain.mail import MailTemplate
from domain.status import Status
from infra.database import Database, SentMail
from infra.settings import PROJECT_ROOT, Settings
from tests.conftest import eventually
from tests.factories import campaign as make_campaign
from tests.factories import dossier_mail
from tests.workflows.conftest import registration
from tests.workflows.steps import mail_counts, mails_settled
from workflows.client import WorkflowClient
from workflows.dossier import DossierWorkflow


def worker_process(settings: Settings, task_queue: str, log: Path) -> subprocess.Popen:
    """`python worker.py`, configured through the same environment variables as production."""
    env = {
        **os.environ,
        "INSCRIPTIONS_ENVIRONMENT": "test",
        "INSCRIPTIONS_TEMPORAL_ADDRESS": settings.temporal_address,
        "INSCRIPTIONS_TASK_QUEUE": task_queue,
        "INSCRIPTIONS_DATA_DIR": str(settings.data_dir),
        "INSCRIPTIONS_DATABASE_URL": settings.database_url,
        "INSCRIPTIONS_SMTP_PORT": str(settings.smtp_port),
        "INSCRIPTIONS_PUBLIC_URL": settings.public_url,
    }
    return subprocess.Popen(
        [sys.executable, "worker.py"], cwd=PROJECT_ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


@pytest.fixture
def outage(mail_sink: MailSink) -> Iterator[MailSink]:
    mail_sink.refusing = True
    yield mail_sink
    mail_sink.refusing = False


async def pending_mail_attempts(client: Client, workflow_id: str) -> int:
    description = await client.get_workflow_handle(workflow_id).describe()
    return max((a.attempt for a in description.raw_description.pending_activities), default=0)


async def polled(client: Client, task_queue: str, alive: Callable[[], bool]) -> None:
    """Wait until a worker polls the queue (the process may take a few seconds to start)."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    async def has_pollers() -> bool:
        assert alive(), "the worker process exited"
        try:
            response = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=client.namespace,
                    task_queue=TaskQueue(name=task_queue),
                    task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                )
            )
        except RPCError:
            # The dev server cancels a describe now and then while a worker process connects
            # ("operation was canceled"): ask again, the condition decides.
            return False
        return bool(response.pollers)

    # A fresh interpreter importing the worker takes seconds, tens of seconds on a loaded machine.
    await eventually(has_pollers, timeout=120)


async def test_a_killed_worker_restarts_without_losing_a_timer_or_doubling_a_mail(
    client: Client, settings: Settings, database: Database, outage: MailSink, tmp_path: Path
) -> None:
    queue = f"kill-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    first = worker_process(settings, queue, log)
    try:
        await polled(client, queue, lambda: first.poll() is None)
        # Deadline 12 s ahead, never validated: the cancellation timer fires while no worker runs.
        c = make_campaign(deadline_in=timedelta(seconds=12), reminders=[])
        reg = registration(c, datetime.now(UTC))
        await WorkflowClient(client, queue).start_dossier(reg)
        number = reg.dossier_number

        # The number's email cannot go out: the SMTP server answers 451; the activity retries.
        await eventually(lambda: _mail_retried(client, number), timeout=30)
        assert mail_counts(outage, number) == Counter()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()

    # The server fires the deadline's timer with no worker alive; the restarted worker finds it.
    handle = client.get_workflow_handle_for(DossierWorkflow.run, number)
    await eventually(lambda: _timer_fired(handle), timeout=30)
    second = worker_process(settings, queue, log)
    try:
        await polled(client, queue, lambda: second.poll() is None)
        dossier = await eventually(lambda: _with_status(handle, Status.CANCELLED), timeout=40)
        assert [e.code for e in dossier.timeline] == ["preinscription", "annulation"]

        outage.refusing = False  # the server is back: both emails go out, in order, once each
        # Once the outbox is empty and no activity pending, nothing more can leave: what the
        # sink holds is all this dossier sends. Two emails queued, two activities completed,
        # two keys recorded as sent, two emails received.
        settled = await mails_settled(handle, timeout=90)
        assert settled.mails_queued == 2
        assert await _completed_activities(handle) == 2
        assert await _sent_keys(database, number) == [f"{number}/1", f"{number}/2"]
        subjects = [m.subject.split(" —")[0] for m in outage.for_dossier(number)]
        assert subjects == ["Votre préinscription", "Préinscription annulée"]
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    assert "Worker stopping" in log.read_text()


async def _mail_retried(client: Client, workflow_id: str) -> bool:
    return await pending_mail_attempts(client, workflow_id) >= 2


async def _timer_fired(handle: WorkflowHandle) -> bool:
    return any([e.event_type == EventType.EVENT_TYPE_TIMER_FIRED async for e in handle.fetch_history_events()])


async def _completed_activities(handle: WorkflowHandle) -> int:
    events = [e async for e in handle.fetch_history_events()]
    return len([e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED])


async def _sent_keys(database: Database, number: str) -> list[str]:
    async with database.sessions() as session:
        keys = await session.scalars(select(SentMail.key).where(SentMail.key.startswith(f"{number}/")))
        return sorted(keys)


async def _with_status(handle, status: Status):
    dossier = await handle.query(DossierWorkflow.view)
    return dossier if dossier.status is status else None


async def test_the_mail_activity_sends_a_key_once_even_when_run_twice(
    settings: Settings, database: Database, mail_sink: MailSink
) -> None:
    """A retried activity (same event key) finds the key in `sent_mails` and does not resend."""
    number = f"IDEM-{uuid.uuid4().hex[:6]}"
    mail = dossier_mail(
        number,
        MailTemplate.VALIDATED,
        "idem@example.fr",
        "En cours de transfert",
        uploads_reopen="mercredi 28 octobre 2026 à 8h30",
    )
    mailer = Mailer(settings, database)
    env = ActivityEnvironment()
    await env.run(mailer.send_mail, mail)
    await env.run(mailer.send_mail, mail)
    received = mail_sink.for_dossier(number)
    assert len(received) == 1
    assert received[0].subject == f"Demande d'inscription validée — dossier n° {number}"
    assert "mercredi 28 octobre 2026 à 8h30" in received[0].body
