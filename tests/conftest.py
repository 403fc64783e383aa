"""One real Temporal dev server, SMTP sink, database and worker for the whole test session.

Each test makes its own campaign (unique id) and dossiers, so tests do not see each other's data.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from devtools import postgres, temporal_binary
from devtools.mail_sink import MailSink, ReceivedMail, start
from infra.database import Database
from infra.settings import Settings
from infra.temporal import DATA_CONVERTER
from web.app import create_app
from worker import build_worker
from workflows import names


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    binary = temporal_binary.ensure()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(binary),
        search_attributes=list(names.SEARCH_ATTRIBUTES),
        data_converter=DATA_CONVERTER,
        dev_server_extra_args=[
            "--dynamic-config-value",
            "system.forceSearchAttributesCacheRefreshOnRead=true",
        ],
        dev_server_startup_timeout=timedelta(seconds=60),
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[postgres.Cluster]:
    """A throwaway PostgreSQL cluster (initdb into a temp dir, free port), started only by the
    tests that ask for it; each makes its own database in it (`pg_database_url`)."""
    cluster = postgres.throwaway("inscriptions-test-pg-", free_port())
    yield cluster
    cluster.stop("immediate")
    shutil.rmtree(cluster.directory, ignore_errors=True)


@pytest.fixture
def pg_database_url(pg_cluster: postgres.Cluster) -> str:
    """A new, empty database on the test cluster."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    pg_cluster.create_database(name)
    return pg_cluster.url(name)


@pytest.fixture(scope="session")
def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink()
    port = free_port()
    controller = start(sink, port=port)
    sink.port = port
    yield sink
    controller.stop()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, client: Client, mail_sink: MailSink) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("data")
    return Settings(
        environment="test",
        data_dir=data_dir,
        temporal_address=client.service_client.config.target_host,
        task_queue=f"tests-{uuid.uuid4().hex[:8]}",
        smtp_port=mail_sink.port,
        public_url="http://testserver",
        # The suite pre-registers hundreds of dossiers from 127.0.0.1 within the hour; the limit
        # itself is tested with the product's value (tests/web/test_preregistration.py).
        preregistrations_per_address=1_000_000,
    )


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings.database_url)
    await db.migrate()
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
async def worker(client: Client, settings: Settings, database: Database) -> AsyncIterator[Worker]:
    w = build_worker(client, settings, database)
    async with w:
        yield w


@pytest.fixture(scope="session")
async def app(settings: Settings, worker: Worker) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def eventually(check: Callable[[], object], timeout: float = 15.0, every: float = 0.1):
    """Wait until `check()` returns something truthy (async checks are awaited); return it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(every)


async def mail_with_subject(sink: MailSink, dossier: str, fragment: str, timeout: float = 15.0) -> ReceivedMail:
    def found() -> ReceivedMail | None:
        return next((m for m in sink.for_dossier(dossier) if fragment in m.subject), None)

    return await eventually(found, timeout=timeout)
