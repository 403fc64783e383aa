"""The worker's metrics: Temporal's own (the SDK runtime's Prometheus exporter) and the business
figures, all on one `/metrics` endpoint per worker process.

Business figures go through the SDK's metric meter rather than a second library: the exporter
already serves the worker's endpoint, and the meter a workflow gets from `workflow.metric_meter()`
records nothing while a history is replayed, so a dossier rebuilt from its history (a worker
restart, a cache eviction) does not count its validations twice.

Names: `workflows/names.py`; meanings: README, « Exploitation ».
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from temporalio.common import MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from infra.database import Database, list_campaigns
from workflows import names

if TYPE_CHECKING:
    from domain.campaign import Campaign
    from workflows.client import WorkflowClient

log = logging.getLogger(__name__)

# A mail normally leaves in seconds; an SMTP outage holds it for minutes or hours.
MAIL_DELAY_BUCKETS = [1.0, 5.0, 15.0, 60.0, 300.0, 600.0, 1800.0, 3600.0, 6 * 3600.0]


def prometheus_runtime(bind_address: str) -> Runtime:
    """A runtime whose metrics are served at http://<bind_address>/metrics (Prometheus text)."""
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=bind_address,
                counters_total_suffix=True,
                durations_as_seconds=True,
                histogram_bucket_overrides={names.METRIC_MAIL_DELAY: MAIL_DELAY_BUCKETS},
            )
        )
    )


class VisibilityFigures:
    """Gauges read from Temporal's visibility every `every` seconds: dossiers per campaign and
    status, bulk actions running, and each campaign's validation deadline (for the alert on
    refusals close to a deadline). Several workers each export the same figures: read them
    with `max by (campaign, status)`."""

    def __init__(self, meter: MetricMeter, every: float = 30.0) -> None:
        self.dossiers = meter.create_gauge(names.METRIC_DOSSIERS, "Dossiers by campaign and status (visibility count)")
        self.batches = meter.create_gauge(names.METRIC_BATCHES_RUNNING, "Bulk actions (batch workflows) running")
        self.deadline = meter.create_gauge(names.METRIC_DEADLINE, "Validation deadline of each campaign, Unix seconds")
        self.every = every

    async def refresh(self, workflows: WorkflowClient, campaigns: Iterable[Campaign]) -> None:
        from workflows.visibility import DossierFilter, batches_query  # workflows import infra, not back

        for campaign in campaigns:
            counts = await workflows.counts_by_status(DossierFilter(campaign_id=campaign.id))
            for status, n in counts.items():
                self.dossiers.set(n, {"campaign": campaign.id, "status": str(status)})
            running = await workflows.count(batches_query(campaign.id) + " AND ExecutionStatus = 'Running'")
            self.batches.set(running, {"campaign": campaign.id})
            self.deadline.set(int(campaign.validation_deadline.timestamp()), {"campaign": campaign.id})

    async def run(self, workflows: WorkflowClient, database: Database) -> None:
        while True:
            try:
                async with database.sessions() as session:
                    campaigns = await list_campaigns(session)
                await self.refresh(workflows, campaigns)
            except Exception:
                # A figure late by one period is better than a worker stopped by its metrics.
                log.warning("Could not refresh the visibility figures", exc_info=True)
            await asyncio.sleep(self.every)
