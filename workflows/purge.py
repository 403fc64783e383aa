"""PurgeWorkflow: delete the personal data of campaigns whose retention period is over (RGPD).

Started every day by a Temporal Schedule (`WorkflowClient.ensure_purge_schedule`, called when
the worker starts), or once from the command line (`python -m ops.purge run`). It asks which
campaigns are due at the workflow's instant, then purges them one by one; each purge is an
activity that resumes where it stopped if the worker dies (`activities.purge`).

Its payloads carry campaign IDs, instants and counts only: the purge's own history must not
keep what it deletes.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows import names


@dataclass
class PurgeRequest:
    campaign_id: str | None = None  # None: every campaign that is due


@dataclass
class PurgeOrder:
    campaign_id: str
    now: datetime  # the instant the retention periods are judged at


@dataclass
class DueRequest:
    now: datetime
    campaign_id: str | None = None


@dataclass
class PurgeReport:
    """What a campaign's purge deleted, in numbers only."""

    campaign_id: str
    purged: bool  # False when the campaign turned out not to be due
    dossiers: int = 0
    files: int = 0
    rows: int = 0
    workflows: int = 0


# A campaign of thousands of dossiers takes a while; the activity heartbeats as it goes, so a
# dead worker is noticed within minutes and the purge resumes on another.
PURGE_TIMEOUT = timedelta(hours=6)
HEARTBEAT = timedelta(minutes=2)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=10))


@workflow.defn(name=names.PURGE_WORKFLOW)
class PurgeWorkflow:
    @workflow.run
    async def run(self, request: PurgeRequest) -> list[PurgeReport]:
        now = workflow.now()
        due: list[str] = await workflow.execute_activity(
            names.PURGE_DUE_CAMPAIGNS,
            DueRequest(now, request.campaign_id),
            result_type=list[str],
            start_to_close_timeout=PURGE_TIMEOUT,
            heartbeat_timeout=HEARTBEAT,
            retry_policy=RETRY,
        )
        reports = []
        for campaign_id in due:
            report: PurgeReport = await workflow.execute_activity(
                names.PURGE_CAMPAIGN,
                PurgeOrder(campaign_id, now),
                result_type=PurgeReport,
                start_to_close_timeout=PURGE_TIMEOUT,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=RETRY,
            )
            reports.append(report)
        return reports
