"""A deploy under open dossiers with Worker Versioning, on the dev server: dossiers started on
version A move to version B once B is made current and finish there (auto-upgrade); a batch
started on A, still open during the deploy, is pinned to A and finishes there. Both versions'
workers are the production worker (`worker.build_worker`) with another build id (A's, at
first, without activity polling, which holds the batch open across the deploy)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.enums.v1 import VersioningBehavior as ProtoVersioningBehavior
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.workflow import _Definition

from devtools import samples
from domain.status import Status
from infra.database import Database
from infra.settings import Settings
from ops.deploy import code_build_id, current_build_id, set_current
from tests.conftest import eventually
from tests.web.pages import open_campaign
from worker import VERSIONED_WORKFLOWS, build_worker, deployment_version
from workflows import names
from workflows.batch import BatchKind, BatchRequest, BatchState, BatchWorkflow
from workflows.client import WorkflowClient
from workflows.dossier import DossierWorkflow, Validate


async def running_on(handle: WorkflowHandle) -> tuple[str, int]:
    """(build id, versioning behavior) the server records for the workflow."""
    info = (await handle.describe()).raw_description.workflow_execution_info.versioning_info
    return info.deployment_version.build_id, info.behavior


async def task_builds(handle: WorkflowHandle) -> list[str]:
    """The build id of every completed workflow task, in order."""
    history = await handle.fetch_history()
    return [
        e.workflow_task_completed_event_attributes.deployment_version.build_id
        for e in history.events
        if e.HasField("workflow_task_completed_event_attributes")
    ]


def test_the_build_id_follows_the_code() -> None:
    first, again = code_build_id(), code_build_id()
    assert first == again
    assert first.startswith("0.1.0-") and len(first) == len("0.1.0-") + 12


def test_a_versioned_worker_pins_the_short_workflows_and_upgrades_dossiers(settings: Settings) -> None:
    versioned = settings.model_copy(update={"worker_deployment": "inscriptions", "worker_build_id": "A"})
    assert deployment_version(versioned) == WorkerDeploymentVersion("inscriptions", "A")
    assert deployment_version(settings) is None  # unversioned when no deployment is named
    behaviours = {w.__name__: _Definition.must_from_class(w).versioning_behavior for w in VERSIONED_WORKFLOWS}
    assert behaviours == {
        "DossierWorkflow": VersioningBehavior.UNSPECIFIED,  # the worker's default: auto-upgrade
        "PinnedCampaignDeadlineWorkflow": VersioningBehavior.PINNED,
        "PinnedCampaignExamsWorkflow": VersioningBehavior.PINNED,
        "PinnedBatchWorkflow": VersioningBehavior.PINNED,
        "PinnedPurgeWorkflow": VersioningBehavior.PINNED,
    }


async def test_open_dossiers_move_to_the_new_version_and_a_batch_stays_on_its_own(
    client: Client, settings: Settings, database: Database
) -> None:
    deployment = f"inscriptions-{uuid.uuid4().hex[:8]}"
    queue = f"versions-{uuid.uuid4().hex[:8]}"
    version_a = settings.model_copy(
        update={"task_queue": queue, "worker_deployment": deployment, "worker_build_id": "A"}
    )
    version_b = version_a.model_copy(update={"worker_build_id": "B"})
    workflows = WorkflowClient(client, queue)
    campaign = await open_campaign(database)

    # Version A's workers, first for the dossiers opened before the deploy.
    async with build_worker(client, version_a, database):
        await set_current(client, deployment, "A")
        numbers = [f"V-{uuid.uuid4().hex[:10].upper()}" for _ in range(2)]
        for number in numbers:
            await workflows.start_dossier(samples.registration(campaign, number))
        dossiers = [client.get_workflow_handle_for(DossierWorkflow.run, n) for n in numbers]
        for dossier in dossiers:
            await eventually(_on(dossier, "A"))

    # The batch starts on A while A's worker takes no activity task: its first workflow task
    # completes on A (which pins it there) and its first activity waits, so the batch is surely
    # still open when B is deployed, whatever the machine's speed.
    batch_id = f"batch-versions-{uuid.uuid4().hex[:8]}"
    request = BatchRequest(BatchKind.ADMIT_COMPLETE, campaign.id, requested_by="Agent Test")
    async with AsyncExitStack() as workers:
        async with build_worker(client, version_a, database, no_remote_activities=True):
            await workflows.start_batch(batch_id, BatchState(request), once=False, label="Admission", by="Agent Test")
            batch = client.get_workflow_handle_for(BatchWorkflow.run, batch_id)
            await eventually(_waits_for_an_activity(batch))
            assert await task_builds(batch) == ["A"]
            assert await running_on(batch) == ("A", ProtoVersioningBehavior.VERSIONING_BEHAVIOR_PINNED)

            # The deploy: B's workers (activities included) start beside A's, then B becomes
            # current; `set_current` returns once the server has seen B's pollers. B's worker
            # runs until the end of the test.
            await workers.enter_async_context(build_worker(client, version_b, database, identity="worker-B"))
            await set_current(client, deployment, "B")
            assert await current_build_id(client, deployment) == "B"

            # B polls, but the pinned batch's activity is not B's to take: the batch is still
            # open on A, waiting, with no workflow task on B.
            assert (await batch.describe()).status is WorkflowExecutionStatus.RUNNING
            assert await _waits_for_an_activity(batch)()
            assert set(await task_builds(batch)) == {"A"}
            assert await running_on(batch) == ("A", ProtoVersioningBehavior.VERSIONING_BEHAVIOR_PINNED)

        # A's worker comes back with its activities (the SDK allows one worker per version and
        # task queue in a process, hence the stop above): the batch finishes there, pinned,
        # although B is current; every one of its activities ran on A's worker. Both versions
        # poll from now on.
        async with build_worker(client, version_a, database, identity="worker-A"):
            progress = await batch.result()
            assert progress.finished_at is not None
            assert await running_on(batch) == ("A", ProtoVersioningBehavior.VERSIONING_BEHAVIOR_PINNED)
            assert set(await task_builds(batch)) == {"A"}
            started_by = await _activity_workers(batch)
            assert started_by and set(started_by) == {"worker-A"}

            # Each open dossier moves to B at its next workflow task, and carries on there: it
            # takes a validation, then is archived and completes, on B.
            for dossier in dossiers:
                ack = await dossier.execute_update(DossierWorkflow.validate, Validate(sworn_statement=True))
                assert ack.status is Status.TRANSFERRING
                await dossier.signal(names.ARCHIVE)
                outcome = await dossier.result()
                assert outcome.dossier_number == dossier.id
                builds = await task_builds(dossier)
                assert builds[0] == "A" and builds[-1] == "B"
                assert await running_on(dossier) == ("B", ProtoVersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE)


def _waits_for_an_activity(handle: WorkflowHandle) -> Callable[[], Awaitable[bool]]:
    """For `eventually`: the workflow is open with an activity scheduled that no worker took."""

    async def check() -> bool:
        described = await handle.describe()
        pending = described.raw_description.pending_activities
        return (
            described.status is WorkflowExecutionStatus.RUNNING
            and len(pending) == 1
            and pending[0].state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
        )

    return check


async def _activity_workers(handle: WorkflowHandle) -> list[str]:
    """The identity of the worker that started each activity of the workflow, in order."""
    history = await handle.fetch_history()
    return [
        e.activity_task_started_event_attributes.identity
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]


def _on(handle: WorkflowHandle, build_id: str) -> Callable[[], Awaitable[bool]]:
    """For `eventually`: the workflow's first task has completed on `build_id`."""

    async def check() -> bool:
        return (await running_on(handle))[0] == build_id

    return check
