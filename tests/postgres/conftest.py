"""The app on PostgreSQL: the same web app and worker as the other tests, on a database of the
session's throwaway PostgreSQL cluster (`pg_cluster`), with a task queue of their own.

The SQL that PostgreSQL runs differently from SQLite (row locks instead of one file lock,
READ COMMITTED visibility, time zones, ON CONFLICT) is exercised here through the product's
own paths: pre-registration, password reset, the mail activity.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.worker import Worker

from devtools import postgres
from infra.database import Database
from infra.settings import Settings
from tests.web.conftest import cheap_password_hashing  # noqa: F401  (same hashing cost as the web tests)
from web.app import create_app
from worker import build_worker


@pytest.fixture(scope="session")
def pg_settings(settings: Settings, pg_cluster: postgres.Cluster, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    pg_cluster.create_database("inscriptions")
    data_dir: Path = tmp_path_factory.mktemp("pg-data")
    return settings.model_copy(
        update={
            "database_url": pg_cluster.url("inscriptions"),
            "data_dir": data_dir,
            "task_queue": f"tests-pg-{uuid.uuid4().hex[:8]}",
        }
    )


@pytest.fixture(scope="session")
async def pg_database(pg_settings: Settings) -> AsyncIterator[Database]:
    db = Database.of(pg_settings)
    await db.migrate()
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
async def pg_worker(client: Client, pg_settings: Settings, pg_database: Database) -> AsyncIterator[Worker]:
    w = build_worker(client, pg_settings, pg_database)
    async with w:
        yield w


@pytest.fixture(scope="session")
async def pg_app(pg_settings: Settings, pg_worker: Worker) -> AsyncIterator[FastAPI]:
    application = create_app(pg_settings)
    async with application.router.lifespan_context(application):
        yield application
