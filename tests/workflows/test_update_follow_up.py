"""An Update whose answer misses the RPC deadline (the worker is behind, as on deadline night) is
followed up by its ID until its real outcome, or answered `Pending`; never turned into an error."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

import pytest
from temporalio.client import Client

from devtools import samples
from domain.status import Status
from infra.database import Database
from infra.settings import Settings
from tests.conftest import eventually
from tests.factories import campaign
from worker import build_worker
from workflows.client import Pending, WorkflowClient
from workflows.dossier import DossierWorkflow

SHORT_RPC = timedelta(milliseconds=300)


async def dossier_without_worker(client: Client, settings: Settings) -> tuple[WorkflowClient, Settings, str]:
    """A dossier started on a task queue no worker polls (yet)."""
    queue = settings.model_copy(update={"task_queue": f"late-{uuid.uuid4().hex[:8]}"})
    workflows = WorkflowClient(client, queue.task_queue)
    number = f"L-{uuid.uuid4().hex[:10].upper()}"
    await workflows.start_dossier(samples.registration(campaign(), number))
    return workflows, queue, number


async def test_an_update_answered_after_its_rpc_deadline_returns_its_real_outcome(
    client: Client, settings: Settings, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    workflows, queue, number = await dossier_without_worker(client, settings)
    caplog.set_level(logging.INFO, logger="workflows.client")
    call = asyncio.create_task(
        workflows.update(number, DossierWorkflow.withdraw, rpc_timeout=SHORT_RPC, follow_up=timedelta(minutes=2))
    )
    # The first answer missed its deadline: the client now follows the Update up by its ID.
    await eventually(lambda: "following it up" in caplog.text or call.done())
    assert not call.done()
    async with build_worker(client, queue, database):  # the worker catches up
        ack = await call
    assert ack.status == Status.WITHDRAWN


async def test_an_update_still_without_outcome_is_pending_with_its_id(client: Client, settings: Settings) -> None:
    workflows, _, number = await dossier_without_worker(client, settings)
    with pytest.raises(Pending) as pending:
        await workflows.update(
            number,
            DossierWorkflow.withdraw,
            update_id="retrait-1",
            rpc_timeout=SHORT_RPC,
            follow_up=timedelta(seconds=1),
        )
    assert pending.value.update_id == "retrait-1"
    assert "en cours d'enregistrement" in pending.value.message
    await workflows.terminate(number, "test over")
