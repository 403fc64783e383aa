"""Workflow tests: the real dev server for real-time behaviour, and the Java time-skipping
server for timelines of days and months (next working day, 15-day convocation lead)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from devtools import samples, test_server
from domain.campaign import Campaign
from domain.candidate import Registration
from infra.database import Database
from infra.settings import Settings
from infra.temporal import DATA_CONVERTER
from worker import build_worker
from workflows import names


# One time-skipping server per test module: after a module has moved its clock months ahead,
# the Java test server (1.32.1) was seen refusing a later module's workflow task completions
# ("invalid history builder state for action"); a fresh server costs about a second.
@pytest.fixture(scope="module")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server.ensure()),
        data_converter=DATA_CONVERTER,
        test_server_startup_timeout=timedelta(seconds=60),  # the JVM is slow on a busy machine
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                k.name: IndexedValueType.ValueType(k.indexed_value_type) for k in names.SEARCH_ATTRIBUTES
            },
        )
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def time_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"task_queue": f"ts-{uuid.uuid4().hex[:8]}"})


@pytest.fixture(scope="module")
async def time_worker(
    time_env: WorkflowEnvironment, time_settings: Settings, database: Database
) -> AsyncIterator[Worker]:
    """The production worker (real mail activity, real SMTP sink) on the time-skipping server."""
    w = build_worker(time_env.client, time_settings, database)
    async with w:
        yield w


def registration(campaign: Campaign, now: datetime | None = None, route: str = "externe", **candidate) -> Registration:
    """Madame Maëlle Le Goff (or who the fields say) with a fresh dossier number."""
    return samples.registration(
        campaign, f"T-{uuid.uuid4().hex[:10].upper()}", route=route, registered_at=now, **candidate
    )
