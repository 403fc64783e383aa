"""The workflows as a versioned worker registers them (Worker Versioning, README « Exploitation »).

A dossier lives for months without continue-as-new: it follows Temporal's guidance for such
workflows, auto-upgrade (the versioned worker's default), moving to each new current version at
its next workflow task, with `workflow.patched` for changes that alter its commands and the
replay check before each deploy. Bulk actions and campaign-wide changes run minutes: they are
pinned, and finish on the version they started on.

The behaviour is declared on these subclasses rather than on the workflows themselves because
the SDK sends a declared behaviour with every workflow task, and the server refuses it from an
unversioned worker (INSCRIPTIONS_WORKER_DEPLOYMENT empty, the tests' workers, the benchmarks').
Same workflow type names, same code: each `run` only hands over to the workflow's own (the SDK
wants it declared on the class it registers).
"""

from temporalio import workflow
from temporalio.common import VersioningBehavior

from workflows.batch import BatchProgress, BatchState, BatchWorkflow
from workflows.campaign import CampaignDeadlineWorkflow, CampaignExamsWorkflow, DeadlineExtension
from workflows.purge import PurgeReport, PurgeRequest, PurgeWorkflow

with workflow.unsafe.imports_passed_through():
    from domain.campaign import ExamAmendment
    from workflows import names


@workflow.defn(name=names.BATCH_WORKFLOW, versioning_behavior=VersioningBehavior.PINNED)
class PinnedBatchWorkflow(BatchWorkflow):
    @workflow.init
    def __init__(self, state: BatchState) -> None:
        super().__init__(state)

    @workflow.run
    async def run(self, state: BatchState) -> BatchProgress:
        return await super().run(state)


@workflow.defn(name=names.CAMPAIGN_DEADLINE_WORKFLOW, versioning_behavior=VersioningBehavior.PINNED)
class PinnedCampaignDeadlineWorkflow(CampaignDeadlineWorkflow):
    @workflow.run
    async def run(self, extension: DeadlineExtension) -> int:
        return await super().run(extension)


@workflow.defn(name=names.CAMPAIGN_EXAMS_WORKFLOW, versioning_behavior=VersioningBehavior.PINNED)
class PinnedCampaignExamsWorkflow(CampaignExamsWorkflow):
    @workflow.run
    async def run(self, amendment: ExamAmendment) -> int:
        return await super().run(amendment)


@workflow.defn(name=names.PURGE_WORKFLOW, versioning_behavior=VersioningBehavior.PINNED)
class PinnedPurgeWorkflow(PurgeWorkflow):
    @workflow.run
    async def run(self, request: PurgeRequest) -> list[PurgeReport]:
        return await super().run(request)
