"""Campaign-wide changes that every open dossier of the campaign must follow.

- CampaignDeadlineWorkflow: a later order extends the campaign's validation deadline.
- CampaignExamsWorkflow: a later order moves exam dates, venues or labels (`ExamAmendment`).

Staff save the change on the campaign (new dossiers take it from there), then start the
workflow, which carries it to every open dossier of the campaign. Being a workflow, it survives
a worker restart mid-way and shows in the Temporal UI with its result (how many dossiers it
reached).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.campaign import ExamAmendment
    from workflows import names


@dataclass
class DeadlineExtension:
    campaign_id: str
    new_deadline: datetime


@workflow.defn(name=names.CAMPAIGN_DEADLINE_WORKFLOW)
class CampaignDeadlineWorkflow:
    @workflow.run
    async def run(self, extension: DeadlineExtension) -> int:
        return await workflow.execute_activity(
            names.SIGNAL_DEADLINE_EXTENSION,
            extension,
            result_type=int,
            start_to_close_timeout=timedelta(hours=1),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )


@workflow.defn(name=names.CAMPAIGN_EXAMS_WORKFLOW)
class CampaignExamsWorkflow:
    @workflow.run
    async def run(self, amendment: ExamAmendment) -> int:
        return await workflow.execute_activity(
            names.SIGNAL_EXAM_AMENDMENT,
            amendment,
            result_type=int,
            start_to_close_timeout=timedelta(hours=1),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
