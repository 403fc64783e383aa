"""Campaign-wide messages: reach every open dossier of a campaign through visibility."""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.client import Client

from workflows import names
from workflows.campaign import DeadlineExtension


def open_dossiers_query(campaign_id: str) -> str:
    return f"{names.CAMPAIGN.name} = '{campaign_id}' AND ExecutionStatus = 'Running' AND WorkflowType = '{names.DOSSIER_WORKFLOW}'"


class CampaignActivities:
    def __init__(self, client: Client, settle_seconds: float = 2.0) -> None:
        self.client = client
        self.settle_seconds = settle_seconds

    @activity.defn(name=names.SIGNAL_DEADLINE_EXTENSION)
    async def signal_deadline_extension(self, extension: DeadlineExtension) -> int:
        """Tell every open dossier of the campaign; returns how many were told.

        The signal is idempotent (a dossier ignores a deadline that is not later than its own),
        so a retried activity simply sends again. Visibility is eventually consistent: a second
        pass a moment later reaches dossiers started just before the campaign was changed.
        """
        told: set[str] = set()
        for attempt in range(2):
            async for execution in self.client.list_workflows(open_dossiers_query(extension.campaign_id)):
                if execution.id in told:
                    continue
                await self.client.get_workflow_handle(execution.id).signal(
                    names.EXTEND_DEADLINE, extension.new_deadline
                )
                told.add(execution.id)
                if len(told) % 100 == 0:
                    activity.heartbeat(len(told))
                    activity.logger.info("Deadline extension of %s: %d dossiers told", extension.campaign_id, len(told))
            if attempt == 0:
                await asyncio.sleep(self.settle_seconds)
        activity.logger.info(
            "Deadline extension of %s to %s reached %d open dossiers",
            extension.campaign_id, extension.new_deadline.isoformat(), len(told),
        )
        return len(told)
