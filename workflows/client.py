"""The one way to the project's workflows: start, view, update, signal, list by visibility.

The web layer, the activities, the operator tools, the benchmarks and the tests reach a
dossier, a campaign-wide change or a bulk action through `WorkflowClient`, never through a
Temporal handle of their own. Temporal's errors come out as three exceptions, each meaning
one thing to a caller:

- `Refusal` (the domain's): the workflow's rules refused the message; its French message is for
  the user, and nothing was written to the history;
- `NotFound`: no such workflow;
- `Unavailable`: Temporal could not answer now (unreachable, overloaded, timed out); trying
  again later is the remedy;
- `Pending` (Updates only): Temporal has the request but its outcome was not known in time
  (the worker is behind); it will be recorded, and the dossier's view will show it.

Workflow modules never import this one (it is client code, outside the sandbox).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution as WorkflowExecutionRef
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowHistory,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.campaign import ExamAmendment
from domain.candidate import Registration
from domain.dossier import Dossier, Refusal
from domain.letters import LetterKind
from domain.status import Status
from domain.summary import DossierSummary
from infra.in_order import InOrder
from workflows import names
from workflows.batch import BatchProgress, BatchState, BatchWorkflow
from workflows.campaign import CampaignDeadlineWorkflow, CampaignExamsWorkflow, DeadlineExtension
from workflows.dossier import REFUSAL, Ack, DossierWorkflow
from workflows.purge import PurgeReport, PurgeRequest, PurgeWorkflow
from workflows.visibility import (
    DossierFilter,
    batches_query,
    campaign_workflows_queries,
    dossier_query,
    status_count_queries,
    validated_since_query,
)

UNAVAILABLE = "Le service est momentanément indisponible. Merci de réessayer dans quelques instants."
RECEIVED = (
    "Votre demande a bien été reçue et est en cours d'enregistrement. "
    "Votre tableau de bord la confirmera dans quelques instants : inutile de la renvoyer."
)
PAGE_SIZE = 50

# How long `update` follows up an Update whose answer missed the RPC deadline (the worker is
# behind) before answering `Pending`; each poll is bounded by `UPDATE_POLL`.
UPDATE_FOLLOW_UP = timedelta(seconds=20)
UPDATE_POLL = timedelta(seconds=5)

log = logging.getLogger(__name__)


class NotFound(Exception):
    """No workflow answers to this ID; the message is for the user."""

    def __init__(self, message: str = "Dossier introuvable.") -> None:
        super().__init__(message)
        self.message = message


class Unavailable(Exception):
    """Temporal did not answer now; the message is for the user, the cause for the log."""

    def __init__(self, message: str = UNAVAILABLE) -> None:
        super().__init__(message)
        self.message = message


class Pending(Exception):
    """The Update reached Temporal, under `update_id`, but its outcome was not known within the
    follow-up time: it is being recorded (or refused) by the workflow as it catches up. The
    message is for the user; sending it again with the same ID applies it once."""

    def __init__(self, update_id: str, message: str = RECEIVED) -> None:
        super().__init__(message)
        self.update_id = update_id
        self.message = message


class AlreadyStarted(Exception):
    """A workflow under this ID ran already and its reuse policy forbids another run."""


@contextmanager
def _translated(not_found: str = "Dossier introuvable.") -> Iterator[None]:
    try:
        yield
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == REFUSAL:
            raise Refusal(cause.message) from exc
        raise Unavailable() from exc
    except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
        raise Unavailable() from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NotFound(not_found) from exc
        raise Unavailable() from exc


def _reraise_if_cancelled() -> None:
    """The SDK reports a cancelled call as an RPC timeout: a request whose caller went away
    (the browser closed) stops here instead of being followed up."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


# ----------------------------------------------------------------------------- list rows
@dataclass
class DossierRow:
    number: str
    name: str
    campaign_id: str
    route: str
    status: Status | None
    started_at: datetime | None
    running: bool
    validated_at: datetime | None = None  # dossiers validated before the attribute existed: None


@dataclass
class DossierPage:
    rows: list[DossierRow]
    next_token: str  # "" on the last page


@dataclass
class IdPage:
    ids: list[str]
    next_token: str  # "" on the last page


@dataclass
class BatchRow:
    workflow_id: str
    label: str
    by: str
    started_at: datetime | None
    status: WorkflowExecutionStatus | None


@dataclass
class BatchInfo:
    workflow_id: str
    label: str
    by: str
    campaign_id: str
    status: WorkflowExecutionStatus | None
    progress: BatchProgress | None
    failure: str | None  # why a failed run failed

    @property
    def running(self) -> bool:
        return self.status in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.CONTINUED_AS_NEW)


@dataclass
class CampaignExecution:
    """One workflow run holding data of a campaign's candidates, as visibility lists it."""

    workflow_id: str
    run_id: str
    workflow_type: str
    status: str  # DossierStatus ("" for a workflow that is not a dossier)
    route: str


# The daily purge (UTC, a quiet hour, far from 23:59 deadlines); a missed day (the server down)
# is caught up within a day, and a purge still running when the next is due is not doubled.
PURGE_AT = ScheduleCalendarSpec(hour=[ScheduleRange(2)], minute=[ScheduleRange(15)], comment="Purge RGPD")


def encode_token(token: bytes | None) -> str:
    """A visibility page token as it travels in a URL or an activity's input."""
    return base64.urlsafe_b64encode(token).decode() if token else ""


def decode_token(token: str) -> bytes | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode())
    except (binascii.Error, ValueError):
        return None  # a mangled link starts from the first page


def _row(execution: WorkflowExecution) -> DossierRow:
    attrs = execution.typed_search_attributes
    status = attrs.get(names.STATUS)
    try:
        parsed = Status(status) if status else None
    except ValueError:
        parsed = None
    return DossierRow(
        number=attrs.get(names.DOSSIER_NUMBER) or execution.id,
        name=attrs.get(names.CANDIDATE_NAME) or "",
        campaign_id=attrs.get(names.CAMPAIGN) or "",
        route=attrs.get(names.ROUTE) or "",
        status=parsed,
        started_at=execution.start_time,
        running=execution.close_time is None,
        validated_at=attrs.get(names.VALIDATED_AT),
    )


class WorkflowClient:
    def __init__(self, client: Client, task_queue: str, *, query_slots: int | None = None) -> None:
        """`query_slots`: at most that many dossier queries in flight from this process, the
        others waiting their turn here (`infra.in_order`); None: no bound (tools, activities)."""
        self.temporal = client  # for health checks and history reads only
        self.task_queue = task_queue
        self._queries = InOrder(query_slots) if query_slots else None

    @asynccontextmanager
    async def _query_turn(self) -> AsyncIterator[None]:
        if self._queries is None:
            yield
            return
        async with self._queries:
            yield

    @property
    def namespace(self) -> str:
        return self.temporal.namespace

    # ------------------------------------------------------------------ one dossier
    def _dossier(self, number: str) -> WorkflowHandle[DossierWorkflow, Any]:
        return self.temporal.get_workflow_handle_for(DossierWorkflow.run, names.dossier_workflow_id(number))

    async def start_dossier(self, registration: Registration) -> None:
        """Open the dossier's workflow; its number is its ID, so it can never be started twice."""
        with _translated():
            await self.temporal.start_workflow(
                DossierWorkflow.run,
                registration,
                id=names.dossier_workflow_id(registration.dossier_number),
                task_queue=self.task_queue,
                search_attributes=names.dossier_search_attributes(registration),
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )

    async def view(self, number: str) -> Dossier:
        async with self._query_turn():
            with _translated():
                return await self._dossier(number).query(DossierWorkflow.view)

    async def summary(self, number: str, now: datetime) -> DossierSummary:
        """What the candidate's pages show at `now`; `view` is for callers that apply the rules."""
        async with self._query_turn():
            with _translated():
                return await self._dossier(number).query(DossierWorkflow.summary, now)

    async def pending_letters(self, number: str) -> list[LetterKind]:
        """Letters the dossier is printing after a decision or a result (empty once deposited)."""
        async with self._query_turn():
            with _translated():
                return await self._dossier(number).query(DossierWorkflow.pending_letters)

    async def update(
        self,
        number: str,
        update: Any,
        *args: Any,
        update_id: str | None = None,
        rpc_timeout: timedelta | None = None,
        follow_up: timedelta = UPDATE_FOLLOW_UP,
    ) -> Ack:
        """Send an Update; the validator's refusal comes back as `Refusal`. An `update_id` makes a
        repeated request (a double click, a retried activity) apply once: the server answers a
        repeated ID with the first outcome. Without one, a fresh ID is made: it is what lets an
        answer that missed the RPC deadline (a busy worker on deadline night) be followed up —
        its outcome polled by that ID for `follow_up` at most — instead of turned into an error.
        Still no outcome then: `Pending`, never a lost request."""
        update_id = update_id or str(uuid.uuid4())
        handle = self._dossier(number)
        with _translated():
            try:
                return await handle.execute_update(update, *args, id=update_id, rpc_timeout=rpc_timeout)
            except WorkflowUpdateRPCTimeoutOrCancelledError:
                _reraise_if_cancelled()
        log.info("Update %s to dossier %s: no outcome within the RPC deadline, following it up", update_id, number)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + follow_up.total_seconds()
        poll = handle.get_update_handle_for(update, update_id)
        with _translated():
            while (left := deadline - loop.time()) > 0:
                rpc = timedelta(seconds=min(left, UPDATE_POLL.total_seconds()))
                try:
                    async with asyncio.timeout(rpc.total_seconds()):  # the SDK polls on while told "not yet"
                        try:
                            return await poll.result(rpc_timeout=rpc)
                        except RPCError as exc:
                            if exc.status != RPCStatusCode.NOT_FOUND:
                                raise
                            # The server does not know this ID: the Update was lost on its way.
                            # Sent again under the same ID it applies once (NotFound if the
                            # dossier itself does not exist).
                            return await handle.execute_update(update, *args, id=update_id, rpc_timeout=rpc)
                except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError):
                    _reraise_if_cancelled()
        log.warning(
            "Update %s to dossier %s: still no outcome after %s, answered as pending", update_id, number, follow_up
        )
        raise Pending(update_id)

    async def signal(self, number: str, signal: Any, *args: Any) -> None:
        with _translated():
            await self._dossier(number).signal(signal, *args)

    async def terminate(self, number: str, reason: str) -> None:
        """Undo a start whose other half failed (the account could not be saved)."""
        with _translated():
            await self._dossier(number).terminate(reason)

    # ------------------------------------------------------------------ dossier lists
    async def dossier_page(self, f: DossierFilter, token: str = "", size: int = PAGE_SIZE) -> DossierPage:
        """One page of a staff list; the next-page token is opaque and travels in the URL."""
        with _translated():
            iterator = self.temporal.list_workflows(
                dossier_query(f), page_size=size, next_page_token=decode_token(token)
            )
            await iterator.fetch_next_page()
        return DossierPage([_row(e) for e in iterator.current_page or []], encode_token(iterator.next_page_token))

    async def id_page(self, query: str, size: int, token: str = "") -> IdPage:
        """One page of workflow IDs. The token is a keyset cursor: workflows leaving the
        selection as they are processed do not shift later pages."""
        with _translated():
            iterator = self.temporal.list_workflows(query, page_size=size, next_page_token=decode_token(token))
            await iterator.fetch_next_page()
        return IdPage([e.id for e in iterator.current_page or []], encode_token(iterator.next_page_token))

    async def dossier_rows(self, f: DossierFilter, limit: int = 20_000) -> list[DossierRow]:
        """Every row of a selection, page after page (exports, the instruction queue); at most
        `limit`, a bound a centre's campaign stays under."""
        rows: list[DossierRow] = []
        with _translated():
            async for execution in self.temporal.list_workflows(dossier_query(f), page_size=1000, limit=limit):
                rows.append(_row(execution))
        return rows

    async def validation_instants(self, campaign_id: str, since: datetime, limit: int = 20_000) -> list[datetime]:
        """When each of the campaign's dossiers validated since `since` did (`ValidatedAt`; a
        dossier validated before that attribute existed has none and is not listed)."""
        instants: list[datetime] = []
        with _translated():
            query = validated_since_query(campaign_id, since)
            async for execution in self.temporal.list_workflows(query, page_size=1000, limit=limit):
                at = execution.typed_search_attributes.get(names.VALIDATED_AT)
                if at is not None:
                    instants.append(at)
        return instants

    async def count(self, query: str) -> int:
        with _translated():
            return (await self.temporal.count_workflows(query)).count

    async def count_dossiers(self, f: DossierFilter) -> int:
        return await self.count(dossier_query(f))

    async def counts_by_status(self, f: DossierFilter) -> dict[Status, int]:
        """Counts per status: one count query each (the server groups by ExecutionStatus only),
        sent together."""
        queries = status_count_queries(f)
        counts = await asyncio.gather(*(self.count(q) for q in queries.values()))
        return dict(zip(queries, counts, strict=True))

    async def open_dossiers(self, campaign_id: str) -> AsyncIterator[str]:
        """Numbers of the campaign's running dossiers (workflow IDs), as visibility lists them."""
        query = dossier_query(DossierFilter(campaign_id=campaign_id, running_only=True))
        with _translated():
            async for execution in self.temporal.list_workflows(query):
                yield execution.id

    async def signal_id(self, workflow_id: str, signal: str, arg: Any) -> None:
        """A signal by workflow ID, for a dossier found through visibility."""
        with _translated():
            await self.temporal.get_workflow_handle(workflow_id).signal(signal, arg)

    # ------------------------------------------------------------------ campaign-wide changes
    async def _start(self, run: Any, arg: Any, workflow_id: str, *, repeatable: bool, **options: Any) -> str:
        """Start a workflow, or join the one running under this ID (a double click). A finished
        run is repeated only if `repeatable`; otherwise starting again raises `AlreadyStarted`."""
        reuse = WorkflowIDReusePolicy.ALLOW_DUPLICATE if repeatable else WorkflowIDReusePolicy.REJECT_DUPLICATE
        try:
            with _translated():
                await self.temporal.start_workflow(
                    run,
                    arg,
                    id=workflow_id,
                    task_queue=self.task_queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    id_reuse_policy=reuse,
                    **options,
                )
        except WorkflowAlreadyStartedError as exc:
            raise AlreadyStarted(workflow_id) from exc
        return workflow_id

    async def start_deadline_extension(self, extension: DeadlineExtension) -> str:
        """Tell the campaign's open dossiers their new deadline. The ID is derived from the
        deadline: a double click joins the first run; a finished run is not repeated
        (`AlreadyStarted`)."""
        workflow_id = names.campaign_deadline_workflow_id(extension.campaign_id, extension.new_deadline.isoformat())
        return await self._start(CampaignDeadlineWorkflow.run, extension, workflow_id, repeatable=False)

    async def start_exam_amendment(self, amendment: ExamAmendment) -> str:
        """Tell the campaign's open dossiers their exams' new dates. The ID is derived from the
        amended exams: a double click joins the running one; a finished run may run again (the
        same exams typed back after another change must reach the dossiers, which ignore an
        amendment they already follow)."""
        workflow_id = names.campaign_exams_workflow_id(amendment.campaign_id, amendment.digest())
        return await self._start(CampaignExamsWorkflow.run, amendment, workflow_id, repeatable=True)

    async def result(self, workflow_id: str) -> Any:
        """What a finished campaign-wide change or bulk action returned (waits for it)."""
        with _translated("Traitement introuvable."):
            return await self.temporal.get_workflow_handle(workflow_id).result()

    # ------------------------------------------------------------------ bulk actions
    async def start_batch(self, workflow_id: str, state: BatchState, *, once: bool, label: str, by: str) -> None:
        """Start a bulk action, or join the one running under this ID. `once`: a finished run is
        never repeated (a results file is imported once) and a second start raises
        `AlreadyStarted`; otherwise a later run takes dossiers that became eligible since."""
        await self._start(
            BatchWorkflow.run,
            state,
            workflow_id,
            repeatable=not once,
            search_attributes=TypedSearchAttributes([SearchAttributePair(names.CAMPAIGN, state.request.campaign_id)]),
            memo={"label": label, "by": by, "kind": state.request.kind.value},
        )

    async def batch_progress(self, workflow_id: str) -> BatchProgress:
        with _translated("Action groupée introuvable."):
            return await self.temporal.get_workflow_handle(workflow_id).query(
                names.BATCH_PROGRESS, result_type=BatchProgress
            )

    async def batch(self, workflow_id: str) -> BatchInfo:
        """A bulk action as its page shows it: label, state, progress, and why it failed."""
        handle = self.temporal.get_workflow_handle(workflow_id)
        with _translated("Action groupée introuvable."):
            description = await handle.describe()
        if description.workflow_type != names.BATCH_WORKFLOW:
            raise NotFound("Action groupée introuvable.")
        memo = await description.memo()
        progress: BatchProgress | None = None
        # A failed run cannot always answer; its failure says why.
        with suppress(Unavailable, NotFound, RPCError, ApplicationError):
            progress = await self.batch_progress(workflow_id)
        failure = None
        if description.status == WorkflowExecutionStatus.FAILED:
            try:
                await handle.result()
            except WorkflowFailureError as exc:
                failure = getattr(exc.cause, "message", None) or str(exc.cause)
        return BatchInfo(
            workflow_id=workflow_id,
            label=str(memo.get("label", workflow_id)),
            by=str(memo.get("by", "")),
            campaign_id=description.typed_search_attributes.get(names.CAMPAIGN) or "",
            status=description.status,
            progress=progress,
            failure=failure,
        )

    async def recent_batches(self, campaign_id: str, limit: int = 20) -> list[BatchRow]:
        rows = []
        with _translated():
            async for execution in self.temporal.list_workflows(batches_query(campaign_id), limit=limit):
                memo = await execution.memo()
                rows.append(
                    BatchRow(
                        workflow_id=execution.id,
                        label=str(memo.get("label", execution.id)),
                        by=str(memo.get("by", "")),
                        started_at=execution.start_time,
                        status=execution.status,
                    )
                )
        return rows

    # ------------------------------------------------------------------ personal data (RGPD)
    async def campaign_executions(self, campaign_id: str) -> list[CampaignExecution]:
        """Every workflow run holding data of the campaign's candidates: dossiers, bulk actions
        and campaign-wide changes, each run of a reused ID on its own."""
        runs: dict[tuple[str, str], CampaignExecution] = {}
        with _translated():
            for query in campaign_workflows_queries(campaign_id):
                async for e in self.temporal.list_workflows(query):
                    attrs = e.typed_search_attributes
                    runs[(e.id, e.run_id)] = CampaignExecution(
                        workflow_id=e.id,
                        run_id=e.run_id,
                        workflow_type=e.workflow_type,
                        status=attrs.get(names.STATUS) or "",
                        route=attrs.get(names.ROUTE) or "",
                    )
        return list(runs.values())

    async def delete_execution(self, workflow_id: str, run_id: str = "") -> None:
        """Delete a workflow run and its history (Temporal terminates it first if it runs), not
        merely close it. One already deleted is no error: an interrupted purge deletes again.
        The server deletes asynchronously: visibility forgets it within moments."""
        request = DeleteWorkflowExecutionRequest(
            namespace=self.namespace,
            workflow_execution=WorkflowExecutionRef(workflow_id=workflow_id, run_id=run_id),
        )
        try:
            await self.temporal.workflow_service.delete_workflow_execution(request, retry=True)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise Unavailable() from exc

    async def exists(self, workflow_id: str) -> bool:
        """Whether Temporal still describes a workflow under this ID (any run, open or closed)."""
        try:
            with _translated():
                await self.temporal.get_workflow_handle(workflow_id).describe()
        except NotFound:
            return False
        return True

    async def ensure_purge_schedule(self) -> None:
        """Create the daily purge's Schedule, or bring an existing one up to date: safe to call
        at every worker start, by several workers at once."""
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                PurgeWorkflow.run,
                PurgeRequest(),
                id=names.PURGE_SCHEDULE_ID,
                task_queue=self.task_queue,
            ),
            spec=ScheduleSpec(calendars=[PURGE_AT]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
        )
        with _translated():
            try:
                await self.temporal.create_schedule(names.PURGE_SCHEDULE_ID, schedule)
            except ScheduleAlreadyRunningError:
                handle = self.temporal.get_schedule_handle(names.PURGE_SCHEDULE_ID)
                await handle.update(lambda _: ScheduleUpdate(schedule=schedule))

    async def purge(self, request: PurgeRequest) -> list[PurgeReport]:
        """Run a purge now (the command line) and wait for its reports; a second call while one
        runs joins it."""
        workflow_id = names.purge_workflow_id(request.campaign_id)
        await self._start(PurgeWorkflow.run, request, workflow_id, repeatable=True)
        with _translated("Purge introuvable."):
            return await self.temporal.get_workflow_handle_for(PurgeWorkflow.run, workflow_id).result()

    # ------------------------------------------------------------------ operators
    def histories(self, query: str, limit: int | None = None) -> AsyncIterator[WorkflowHistory]:
        """The histories of the workflows a list query finds (the replay check before a deploy)."""
        return self.temporal.list_workflows(query, limit=limit).map_histories()

    async def history(self, workflow_id: str) -> tuple[WorkflowExecutionDescription, WorkflowHistory]:
        """A workflow's description and its whole history, as recorded by the server."""
        handle = self.temporal.get_workflow_handle(workflow_id)
        with _translated():
            return await handle.describe(), await handle.fetch_history()
