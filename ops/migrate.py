"""The migrate step: brings the app's database to the schema of this code (Alembic).

    python -m ops.migrate                          # apply the migrations not applied yet
    python -m ops.migrate check                    # exit 1 unless the schema is at head
    python -m ops.migrate revision -m "add x"      # write the next revision from the models

Run it before starting (or after updating) the web app and the workers: they refuse to start on
a schema that is not at head. The run command, the tests, the benchmarks, the production stack
(`devtools/prod_stack.py`) and docker-compose.yml's one-shot `migrate` service all call it.
Settings come from the INSCRIPTIONS_* environment (INSCRIPTIONS_DATABASE_URL), as for the app.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from infra import schema
from infra.database import Database
from infra.settings import get_settings


def next_revision_id() -> str:
    """Sequential ids (0001, 0002…): two branches adding one each conflict visibly at merge."""
    numbers = [int(s.revision) for s in ScriptDirectory.from_config(schema.config()).walk_revisions()]
    return f"{max(numbers, default=0) + 1:04d}"


async def write_revision(message: str) -> Path:
    with tempfile.TemporaryDirectory() as scratch:
        database = Database(f"sqlite+aiosqlite:///{Path(scratch) / 'head.db'}")
        await database.migrate()
        written: list[Path] = []

        def autogenerate(connection: Connection) -> None:
            script = command.revision(
                schema.config(connection), message=message, autogenerate=True, rev_id=next_revision_id()
            )
            assert script is not None and not isinstance(script, list)
            written.append(Path(script.path))

        async with database.engine.connect() as connection:
            await connection.run_sync(autogenerate)
        await database.dispose()
        return written[0]


async def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ops.migrate", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command")
    sub.add_parser("upgrade", help="appliquer les migrations (par défaut)")
    sub.add_parser("check", help="code de sortie 1 si le schéma n'est pas à jour")
    revision = sub.add_parser("revision", help="écrire la migration suivante d'après les modèles")
    revision.add_argument("-m", "--message", required=True)
    args = p.parse_args(argv)

    if args.command == "revision":
        print(f"Migration écrite : {await write_revision(args.message)} (à relire avant de la committer)")
        return 0
    settings = get_settings()
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)  # SQLite creates the file, not its folder
    database = Database(settings.database_url)
    try:
        if args.command == "check":
            try:
                await database.check_schema()
            except schema.SchemaNotAtHead as error:
                print(error, file=sys.stderr)
                return 1
            print("Schéma à jour.")
            return 0
        await database.migrate()
        print(f"Schéma à jour (révision {', '.join(sorted(schema.heads()))}).")
        return 0
    finally:
        await database.dispose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
