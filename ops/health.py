"""Is the system able to serve? Temporal, the worker, the database and SMTP, each checked.

Every check has its own short timeout and reports in French what an operator should look at;
one failing check never hides the others. A worker is "polling" when Temporal saw a poller on
the task queue (workflow and activity sides) within the last minute: describe_task_queue
reports pollers with their last access time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiosmtplib
from sqlalchemy import text
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest
from temporalio.client import Client

from infra.database import Database
from infra.settings import Settings

CHECK_TIMEOUT = 5.0
POLLER_FRESHNESS = timedelta(minutes=1)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    took_ms: int = 0


async def _timed(name: str, probe: Awaitable[str]) -> Check:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(probe, CHECK_TIMEOUT)
        ok = True
    except TimeoutError:
        ok, detail = False, f"pas de réponse en {CHECK_TIMEOUT:.0f} s"
    except Exception as exc:  # the page must show every failure, whatever its kind
        ok, detail = False, f"{type(exc).__name__} : {str(exc).splitlines()[0] if str(exc) else 'erreur'}"
    return Check(name, ok, detail, int((time.perf_counter() - started) * 1000))


async def _temporal(client: Client) -> str:
    info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
    server = info.server_version or "inconnu"
    return f"{client.service_client.config.target_host}, namespace {client.namespace}, serveur {server}"


async def _pollers(client: Client, task_queue: str) -> str:
    fresh_since = datetime.now(UTC) - POLLER_FRESHNESS
    seen: dict[str, list[str]] = {}
    for kind, label in (
        (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, "workflows"),
        (TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, "activités"),
    ):
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace, task_queue=TaskQueue(name=task_queue), task_queue_type=kind
            )
        )
        seen[label] = [p.identity for p in response.pollers if p.last_access_time.ToDatetime(tzinfo=UTC) >= fresh_since]
    missing = [label for label, identities in seen.items() if not identities]
    if missing:
        raise RuntimeError(
            f"aucun worker n'interroge la file « {task_queue} » ({', '.join(missing)}) depuis une minute"
        )
    identities = sorted({i for ids in seen.values() for i in ids})
    return f"file « {task_queue} » : {len(identities)} worker(s) — {', '.join(identities)}"


async def _database(database: Database) -> str:
    async with database.sessions() as session:
        await session.execute(text("SELECT 1"))
    return database.engine.url.render_as_string(hide_password=True)


async def _smtp(settings: Settings) -> str:
    smtp = aiosmtplib.SMTP(
        hostname=settings.smtp_host, port=settings.smtp_port, timeout=CHECK_TIMEOUT, start_tls=settings.smtp_starttls
    )
    await smtp.connect()
    try:
        code, _ = await smtp.noop()
    finally:
        with contextlib.suppress(aiosmtplib.SMTPException):
            await smtp.quit()
    return f"{settings.smtp_host}:{settings.smtp_port} répond ({code})"


async def run_checks(client: Client, database: Database, settings: Settings) -> list[Check]:
    return list(
        await asyncio.gather(
            _timed("Temporal joignable", _temporal(client)),
            _timed("Worker à l'écoute", _pollers(client, settings.task_queue)),
            _timed("Base de données", _database(database)),
            _timed("Serveur SMTP", _smtp(settings)),
        )
    )
