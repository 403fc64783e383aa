"""The database schema belongs to Alembic: versioned migrations in `migrations/versions/`.

Every process that needs tables (web, worker, tools, tests, benchmarks) gets them from one step,
`python -m ops.migrate` (or `Database.migrate()`), never from `create_all`, which creates missing
tables but never alters an existing one. The web app and the worker only check that the schema
is at this code's head revision and refuse to start otherwise (`check_at_head`).

A new table or column: change the models, then `python -m ops.migrate revision -m "what"`
writes the next revision by comparing the models with a database migrated to head; read it,
then commit it with the models.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

# Every module declaring tables, so that the metadata Alembic compares with is complete. A new
# `infra/` module with tables is added here.
import infra.access_maps
import infra.exam_day
import infra.generated_documents
import infra.instruction
import infra.personal_data
import infra.staff_accounts
import migrations
from infra.database import Base

MODEL_MODULES = (
    infra.access_maps,
    infra.exam_day,
    infra.generated_documents,
    infra.instruction,
    infra.personal_data,
    infra.staff_accounts,
)
METADATA = Base.metadata
MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent

# Databases created by `create_all` before Alembic have exactly this revision's tables.
INITIAL_REVISION = "0001"


class SchemaNotAtHead(RuntimeError):
    """The database was not migrated to this code's schema."""


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # migrations/env.py runs on this connection when given (else on the settings' database).
    cfg.attributes["connection"] = connection
    return cfg


def heads() -> set[str]:
    return set(ScriptDirectory.from_config(config()).get_heads())


def current(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def _upgrade(connection: Connection) -> None:
    cfg = config(connection)
    if not current(connection) and inspect(connection).has_table("accounts"):
        # Created by create_all before migrations existed: its tables are the initial revision's.
        command.stamp(cfg, INITIAL_REVISION)
    command.upgrade(cfg, "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Apply every migration not applied yet, in one transaction where the database allows it."""
    async with engine.connect() as connection:
        await connection.run_sync(_upgrade)
        await connection.commit()


async def check_at_head(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        found = await connection.run_sync(current)
    wanted = heads()
    if found != wanted:
        raise SchemaNotAtHead(
            f"The database schema is at revision {', '.join(sorted(found)) or '(none: empty database)'}, "
            f"this code needs {', '.join(sorted(wanted))}: run the migrate step first "
            "(`python -m ops.migrate`, the `migrate` service of docker-compose.yml)."
        )
