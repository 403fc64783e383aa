"""The worker: runs every workflow (dossiers, campaign-wide changes, bulk actions, the personal
data purge) and their activities (email, letters, campaign signals, batches, purge); at start it
makes sure the daily purge's Schedule exists."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import Worker, WorkerDeploymentConfig

from activities.batch import BatchActivities
from activities.campaigns import CampaignActivities
from activities.letters import DocumentIssuer
from activities.mail import Mailer
from activities.purge import Purger
from activities.rendering import LetterRenderer
from infra import logs
from infra.database import Database
from infra.files import FileStore
from infra.settings import Settings, get_settings
from infra.telemetry import VisibilityFigures, prometheus_runtime
from infra.temporal import WORKFLOW_RUNNER, connect
from ops.deploy import adopt_if_none_current, code_build_id, set_current
from workflows.batch import BatchWorkflow
from workflows.campaign import CampaignDeadlineWorkflow, CampaignExamsWorkflow
from workflows.client import WorkflowClient
from workflows.dossier import DossierWorkflow
from workflows.purge import PurgeWorkflow
from workflows.versioned import (
    PinnedBatchWorkflow,
    PinnedCampaignDeadlineWorkflow,
    PinnedCampaignExamsWorkflow,
    PinnedPurgeWorkflow,
)

WORKFLOWS = [DossierWorkflow, CampaignDeadlineWorkflow, CampaignExamsWorkflow, BatchWorkflow, PurgeWorkflow]
# A versioned worker's: dossiers auto-upgrade (the default below), the others are pinned.
VERSIONED_WORKFLOWS = [
    DossierWorkflow,
    PinnedCampaignDeadlineWorkflow,
    PinnedCampaignExamsWorkflow,
    PinnedBatchWorkflow,
    PinnedPurgeWorkflow,
]

log = logging.getLogger("worker")


def deployment_version(settings: Settings) -> WorkerDeploymentVersion | None:
    """This worker's version when versioned (INSCRIPTIONS_WORKER_DEPLOYMENT set)."""
    if not settings.worker_deployment:
        return None
    return WorkerDeploymentVersion(settings.worker_deployment, settings.worker_build_id or code_build_id())


def build_worker(client: Client, settings: Settings, database: Database, **options: Any) -> Worker:
    """The worker with every workflow and activity; `options` go to temporalio's `Worker` as they
    are (e.g. `identity`, or `no_remote_activities=True` for a worker that only runs workflow
    tasks), so a variant is still this worker rather than a copy of its wiring."""
    workflows = WorkflowClient(client, settings.task_queue)
    files = FileStore(settings.files_dir)
    mailer = Mailer(settings, database)
    campaigns = CampaignActivities(workflows)
    issuer = DocumentIssuer(workflows, database, files, LetterRenderer(settings.letter_processes))
    batches = BatchActivities(workflows, database, files, issuer)
    purger = Purger(workflows, database, files)
    version = deployment_version(settings)
    return Worker(
        client,
        task_queue=settings.task_queue,
        # Dossiers move to the current version at their next task (auto-upgrade, changes behind
        # workflow.patched); batches and campaign-wide changes are pinned (workflows/versioned.py).
        deployment_config=WorkerDeploymentConfig(
            version=version,
            use_worker_versioning=True,
            default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE,
        )
        if version
        else None,
        workflows=VERSIONED_WORKFLOWS if version else WORKFLOWS,
        workflow_runner=WORKFLOW_RUNNER,
        max_cached_workflows=settings.worker_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_workflow_task_slots,
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=settings.worker_sticky_timeout_seconds),
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
            batches.exam_day,
            batches.exam_day_files,
            purger.due_campaigns_activity,
            purger.purge_campaign_activity,
        ],
        **options,
    )


async def main() -> None:
    logs.configure()
    settings = get_settings()
    database = Database.of(settings)
    # The schema is the migrate step's (`python -m ops.migrate`), run before the workers start.
    await database.check_schema()
    runtime = None
    if settings.worker_metrics_address:
        try:
            runtime = prometheus_runtime(settings.worker_metrics_address)
        except ValueError as exc:
            # A worker without metrics still serves the dossiers; a second one on the same host
            # needs its own INSCRIPTIONS_WORKER_METRICS_ADDRESS.
            log.error("No metrics for this worker: %s (INSCRIPTIONS_WORKER_METRICS_ADDRESS)", exc)
    client = await connect(settings, runtime)
    worker = build_worker(client, settings, database)
    LetterRenderer(settings.letter_processes).start()  # the process's pool, which the worker's letters use
    figures = None
    if runtime is not None:
        log.info("Worker metrics at http://%s/metrics", settings.worker_metrics_address)
        gauges = VisibilityFigures(runtime.metric_meter, settings.metrics_refresh_seconds)
        figures = asyncio.create_task(gauges.run(WorkflowClient(client, settings.task_queue), database))
    # The daily personal-data purge: created once, kept up to date at every start (idempotent).
    await WorkflowClient(client, settings.task_queue).ensure_purge_schedule()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("Worker polling task queue %r on %s", settings.task_queue, settings.temporal_address)
    async with worker:
        version = deployment_version(settings)
        if version is not None:
            log.info("Worker version %s of deployment %s", version.build_id, version.deployment_name)
            if settings.environment == "dev":
                # The run command's single worker: each edit of the code is a new version, made
                # current at once. Elsewhere that is the deploy's decision (README).
                await set_current(client, version.deployment_name, version.build_id)
                log.info("Made version %s current (dev)", version.build_id)
            elif await adopt_if_none_current(client, version.deployment_name, version.build_id):
                log.info("First version of deployment %s: made current", version.deployment_name)
        await stop.wait()
        log.info("Worker stopping: finishing tasks in flight")
        if figures is not None:
            figures.cancel()
    await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
