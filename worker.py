"""The worker: runs every workflow (dossiers, campaign-wide changes, bulk actions, the personal
data purge) and their activities (email, letters, campaign signals, batches, purge); at start it
makes sure the daily purge's Schedule exists."""

from __future__ import annotations

import asyncio
import logging
import signal

from temporalio.client import Client
from temporalio.worker import Worker

from activities.batch import BatchActivities
from activities.campaigns import CampaignActivities
from activities.letters import DocumentIssuer
from activities.mail import Mailer
from activities.purge import Purger
from infra.database import Database
from infra.files import FileStore
from infra.settings import Settings, get_settings
from infra.temporal import connect
from workflows.batch import BatchWorkflow
from workflows.campaign import CampaignDeadlineWorkflow, CampaignExamsWorkflow
from workflows.client import WorkflowClient
from workflows.dossier import DossierWorkflow
from workflows.purge import PurgeWorkflow

WORKFLOWS = [DossierWorkflow, CampaignDeadlineWorkflow, CampaignExamsWorkflow, BatchWorkflow, PurgeWorkflow]

log = logging.getLogger("worker")


def build_worker(client: Client, settings: Settings, database: Database) -> Worker:
    workflows = WorkflowClient(client, settings.task_queue)
    files = FileStore(settings.files_dir)
    mailer = Mailer(settings, database)
    campaigns = CampaignActivities(workflows)
    issuer = DocumentIssuer(workflows, database, files)
    batches = BatchActivities(workflows, database, files, issuer)
    purger = Purger(workflows, database, files)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        max_cached_workflows=settings.worker_cached_workflows,
        activities=[
            mailer.send_mail,
            issuer.print_letter,
            campaigns.signal_deadline_extension,
            campaigns.signal_exam_amendment,
            batches.count,
            batches.list_page,
            batches.admit,
            batches.convocations,
            batches.results,
            purger.due_campaigns_activity,
            purger.purge_campaign_activity,
        ],
    )


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    database = Database.of(settings)
    # The schema is the migrate step's (`python -m ops.migrate`), run before the workers start.
    await database.check_schema()
    client = await connect(settings)
    worker = build_worker(client, settings, database)
    # The daily personal-data purge: created once, kept up to date at every start (idempotent).
    await WorkflowClient(client, settings.task_queue).ensure_purge_schedule()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("Worker polling task queue %r on %s", settings.task_queue, settings.temporal_address)
    async with worker:
        await stop.wait()
        log.info("Worker stopping: finishing tasks in flight")
    await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
