"""The personal-data purge from the command line (RGPD; README « Données personnelles »).

    python -m ops.purge status                  # each campaign: retention, earliest purge, purged?
    python -m ops.purge run                     # purge every campaign whose retention is over
    python -m ops.purge run --campaign red2027  # only this one, if its retention is over

`run` starts the same `PurgeWorkflow` the daily Schedule starts and waits for its report, so
it needs Temporal and a running worker (which reads the dossiers and deletes). Nothing is ever
purged before its campaign's retention period is over: there is no force option. Settings come
from the INSCRIPTIONS_* environment, as for the web app and the worker.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from activities.purge import Purger
from domain.fr import datetime_fr
from infra.database import Database, get_campaign
from infra.files import FileStore
from infra.settings import get_settings
from infra.temporal import connect
from workflows.client import WorkflowClient
from workflows.purge import PurgeRequest

TIME_ZONE = "Europe/Paris"


async def status(purger: Purger, database: Database) -> None:
    for c in await purger.retention_status():
        async with database.sessions() as session:
            campaign = await get_campaign(session, c.campaign_id)
        retention = f"{campaign.retention.days} jours" if campaign else "?"
        if c.purged_at:
            state = f"purgée le {datetime_fr(c.purged_at, TIME_ZONE)}"
        elif c.started:
            state = "purge commencée, à reprendre (python -m ops.purge run)"
        else:
            state = f"purge au plus tôt le {datetime_fr(c.earliest_purge, TIME_ZONE)}"
        print(f"{c.campaign_id}\t{c.grade}\tconservation {retention}\t{state}")


async def run(workflows: WorkflowClient, campaign_id: str | None) -> int:
    reports = await workflows.purge(PurgeRequest(campaign_id))
    if not reports:
        print("Aucune session n'a atteint la fin de sa durée de conservation.")
    for r in reports:
        if r.purged:
            print(
                f"{r.campaign_id} : {r.dossiers} dossier(s), {r.files} fichier(s), {r.rows} ligne(s) "
                f"et {r.workflows} exécution(s) de workflow supprimés ; restent les effectifs anonymes."
            )
        else:
            print(f"{r.campaign_id} : pas encore à purger.")
    return 0


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.purge", description="Purge RGPD des sessions échues.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="état de conservation de chaque session")
    run_parser = commands.add_parser("run", help="purger les sessions dont la durée de conservation est échue")
    run_parser.add_argument("--campaign", help="identifiant d'une session (par défaut : toutes celles échues)")
    args = parser.parse_args(argv)

    settings = get_settings()
    database = Database.of(settings)
    await database.check_schema()  # the migrate step's schema, as the worker checks it
    try:
        workflows = WorkflowClient(await connect(settings), settings.task_queue)
        if args.command == "status":
            await status(Purger(workflows, database, FileStore(settings.files_dir)), database)
            return 0
        return await run(workflows, args.campaign)
    finally:
        await database.dispose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
