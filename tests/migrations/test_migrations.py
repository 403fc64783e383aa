"""Alembic owns the schema: every migration applies from an empty database, on SQLite and on
PostgreSQL, and the result is exactly what the models declare."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from infra import schema
from infra.database import Database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("pg_database_url")


def differences(connection: Connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, schema.METADATA)


def revisions_in_order() -> list[str]:
    script = ScriptDirectory.from_config(schema.config())
    return [s.revision for s in reversed(list(script.walk_revisions()))]


async def test_every_migration_from_empty_gives_the_models_schema(empty_url: str) -> None:
    database = Database(empty_url)
    try:
        async with database.engine.connect() as connection:
            # One revision at a time, as successive deploys apply them.
            for revision in revisions_in_order():

                def upgrade(c: Connection, revision: str = revision) -> None:
                    command.upgrade(schema.config(c), revision)

                await connection.run_sync(upgrade)
            await connection.commit()
            assert await connection.run_sync(differences) == []
            assert await connection.run_sync(schema.current) == schema.heads()
        await database.check_schema()  # what the web and the worker check at start
        # Downgrades work too, back to nothing, and the migrate step then rebuilds the schema.
        async with database.engine.connect() as connection:
            await connection.run_sync(lambda c: command.downgrade(schema.config(c), "base"))
            await connection.commit()
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        assert set(tables) <= {"alembic_version"}
        await database.migrate()
        await database.migrate()  # running it again changes nothing
        async with database.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await database.dispose()


def test_the_migrations_form_one_line() -> None:
    """Two branches each adding a revision leave two heads: merge them before deploying."""
    assert len(schema.heads()) == 1


async def test_the_web_and_the_worker_refuse_a_database_not_migrated(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        with pytest.raises(schema.SchemaNotAtHead, match=r"python -m ops\.migrate"):
            await database.check_schema()
    finally:
        await database.dispose()


async def test_a_database_made_before_migrations_is_adopted_without_loss(empty_url: str) -> None:
    """Databases created by `create_all` (before Alembic) hold the initial revision's tables:
    the migrate step records them as such, keeps their rows and applies what came after."""
    database = Database(empty_url)
    try:
        async with database.engine.connect() as connection:
            # What create_all made before migrations: the initial revision's tables, unrecorded
            # (not today's models, whose later tables the following revisions create).
            await connection.run_sync(lambda c: command.upgrade(schema.config(c), schema.INITIAL_REVISION))
            await connection.exec_driver_sql("DROP TABLE alembic_version")
            await connection.exec_driver_sql("INSERT INTO counters (name, value) VALUES ('legacy', 41)")
            await connection.commit()
        await database.migrate()
        async with database.engine.connect() as connection:
            assert await connection.run_sync(schema.current) == schema.heads()
            assert (await connection.exec_driver_sql("SELECT value FROM counters")).scalar_one() == 41
            assert await connection.run_sync(differences) == []
    finally:
        await database.dispose()
