"""Campaign-wide messages: reach every open dossier of a campaign through visibility."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import activity

from domain.campaign import ExamAmendment
from workflows import names
from workflows.campaign import DeadlineExtension
from workflows.client import WorkflowClient


class CampaignActivities:
    def __init__(self, client: WorkflowClient, settle_seconds: float = 2.0) -> None:
        self.client = client
        self.settle_seconds = settle_seconds

    @activity.defn(name=names.SIGNAL_DEADLINE_EXTENSION)
    async def signal_deadline_extension(self, extension: DeadlineExtension) -> int:
        """Tell every open dossier of the campaign; returns how many were told.

        The signal is idempotent (a dossier ignores a deadline that is not later than its own),
        so a retried activity simply sends again.
        """
        told = await self._signal_open_dossiers(
            extension.campaign_id, names.EXTEND_DEADLINE, extension.new_deadline, "Deadline extension"
        )
        activity.logger.info(
            "Deadline extension of %s to %s reached %d open dossiers",
            extension.campaign_id,
            extension.new_deadline.isoformat(),
            told,
        )
        return told

    @activity.defn(name=names.SIGNAL_EXAM_AMENDMENT)
    async def signal_exam_amendment(self, amendment: ExamAmendment) -> int:
        """Tell every open dossier of the campaign its exams' new dates; returns how many.

        The signal is idempotent (a dossier ignores an amendment it already follows, or one
        older than it), so a retried activity simply sends again.
        """
        told = await self._signal_open_dossiers(amendment.campaign_id, names.AMEND_EXAMS, amendment, "Exam amendment")
        activity.logger.info(
            "Exam amendment %s of %s reached %d open dossiers", amendment.digest(), amendment.campaign_id, told
        )
        return told

    async def _signal_open_dossiers(self, campaign_id: str, signal: str, arg: Any, what: str) -> int:
        """One signal to each open dossier of the campaign, found through visibility.

        Visibility is eventually consistent: a second pass a moment later reaches dossiers
        started just before the campaign was changed (they took the old definition)."""
        told: set[str] = set()
        for attempt in range(2):
            async for workflow_id in self.client.open_dossiers(campaign_id):
                if workflow_id in told:
                    continue
                await self.client.signal_id(workflow_id, signal, arg)
                told.add(workflow_id)
                if len(told) % 100 == 0:
                    activity.heartbeat(len(told))
                    activity.logger.info("%s of %s: %d dossiers told", what, campaign_id, len(told))
            if attempt == 0:
                await asyncio.sleep(self.settle_seconds)
        return len(told)
