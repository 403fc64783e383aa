"""BatchWorkflow: one staff bulk action over many dossiers, durable, resumable, applied once.

Four actions (DOMAIN.md, "staff bulk actions over thousands of dossiers"):
- admit every complete dossier of a campaign;
- prepare the convocations of one exam date (generated, stored, deposited; each dossier
  releases its own about 15 days before the exam and emails the candidate);
- import results from a CSV file (bad rows reported, good rows applied);
- prepare one exam's exam-day documents: each chunk records its convened candidates (with their
  granted accommodations) in SQL, keyed by batch and dossier; a last activity lays out the
  attendance sheet, the door list, the accommodations list and the CSV, in alphabetical order.

The workflow only walks the work in chunks — a page of visibility results, or a slice of the
file's lines — and hands each chunk to an activity, which does the I/O. Why it cannot apply
anything twice:
- each dossier message carries an update ID derived from this batch and the item, so an
  activity retried after a worker crash re-sends the same IDs and the server answers with the
  first outcome instead of running the handler again;
- the dossier's own validators refuse a decision that no longer applies (a second admission);
- letters are keyed per dossier and purpose in SQL, so a retry deposits the same file.

State lives in one dataclass carried across continue-as-new, which keeps each run's history
short however many dossiers the campaign has. Progress is a query; the final progress is the
result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows import names

# Issues kept in the progress (the rest only counted): the state travels in every
# continue-as-new and every query answer, and must stay far below payload limits.
MAX_ISSUES_KEPT = 500


class BatchKind(StrEnum):
    ADMIT_COMPLETE = "admission"
    CONVOCATIONS = "convocations"
    RESULTS = "resultats"
    EXAM_DAY = "jour-epreuve"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    BatchKind.ADMIT_COMPLETE: "Admission à concourir des dossiers complets",
    BatchKind.CONVOCATIONS: "Préparation des convocations",
    BatchKind.RESULTS: "Import des résultats",
    BatchKind.EXAM_DAY: "Documents du jour d'épreuve",
}


@dataclass
class BatchRequest:
    kind: BatchKind
    campaign_id: str
    requested_by: str
    exam_code: str = ""  # CONVOCATIONS, EXAM_DAY
    file_ref: str = ""  # RESULTS: the uploaded CSV in the file store
    file_name: str = ""
    page_size: int = 100  # dossiers (or lines) per activity call
    chunks_per_run: int = 20  # continue-as-new after this many chunks
    concurrency: int = 32  # dossier messages in flight inside one activity (bench: 16 -> 19/s, 48 -> 42/s)
    heartbeat_seconds: int = 30  # a dead worker's chunk is retried after this long


@dataclass
class ItemIssue:
    item: str  # a dossier number, or "ligne 14" for a file row
    message: str  # French, shown to staff as is


@dataclass
class BatchOutput:
    """A file a batch produced (EXAM_DAY: attendance sheet, door list...), for staff to download."""

    title: str
    ref: str
    filename: str
    content_type: str


@dataclass
class BatchProgress:
    total: int | None = None  # known after the first step (a count, or the file's rows)
    processed: int = 0
    applied: int = 0
    refused: int = 0  # the dossier (or the row) did not allow it; see issues
    issues: list[ItemIssue] = field(default_factory=list)
    issues_not_kept: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    runs: int = 1  # how many workflow runs (continue-as-new) so far
    outputs: list[BatchOutput] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass
class BatchState:
    request: BatchRequest
    progress: BatchProgress = field(default_factory=BatchProgress)
    cursor: str = ""  # visibility page token (base64), or the next line index of the file
    exhausted: bool = False


# ---------------------------------------------------------------- activity inputs and outputs
@dataclass
class CountInput:
    request: BatchRequest


@dataclass
class PageInput:
    request: BatchRequest
    cursor: str


@dataclass
class Page:
    dossiers: list[str]
    cursor: str  # "" when this was the last page


@dataclass
class ChunkInput:
    request: BatchRequest
    batch_key: str  # unique to this batch (not to its run): prefix of every update ID
    dossiers: list[str] = field(default_factory=list)  # visibility batches
    start: int = 0  # RESULTS: index of the first data line of this chunk


@dataclass
class ChunkOutcome:
    processed: int
    applied: int
    issues: list[ItemIssue]
    cursor: str = ""  # RESULTS: next line index, "" at the end of the file


_CHUNK_ACTIVITY = {
    BatchKind.ADMIT_COMPLETE: names.BATCH_ADMIT,
    BatchKind.CONVOCATIONS: names.BATCH_CONVOCATIONS,
    BatchKind.EXAM_DAY: names.BATCH_EXAM_DAY,
}


@workflow.defn(name=names.BATCH_WORKFLOW)
class BatchWorkflow:
    @workflow.init
    def __init__(self, state: BatchState) -> None:
        self.state = state

    @workflow.run
    async def run(self, state: BatchState) -> BatchProgress:
        request, progress = self.state.request, self.state.progress
        if progress.started_at is None:
            progress.started_at = workflow.now()
            progress.total = await self._activity(names.BATCH_COUNT, CountInput(request), int)
        info = workflow.info()
        # The same across continue-as-new, different for a later batch reusing the workflow ID.
        batch_key = f"{info.workflow_id}/{info.first_execution_run_id}"
        chunks = 0
        while not self.state.exhausted:
            if chunks >= request.chunks_per_run or info.is_continue_as_new_suggested():
                progress.runs += 1
                workflow.continue_as_new(self.state)
            if request.kind is BatchKind.RESULTS:
                outcome = await self._activity(
                    names.BATCH_RESULTS,
                    ChunkInput(request, batch_key, start=int(self.state.cursor or 0)),
                    ChunkOutcome,
                )
                self.state.cursor = outcome.cursor
                self.state.exhausted = not outcome.cursor
            else:
                page = await self._activity(names.BATCH_LIST_PAGE, PageInput(request, self.state.cursor), Page)
                if page.dossiers:
                    activity = _CHUNK_ACTIVITY[request.kind]
                    outcome = await self._activity(
                        activity, ChunkInput(request, batch_key, page.dossiers), ChunkOutcome
                    )
                else:
                    outcome = ChunkOutcome(0, 0, [])
                self.state.cursor = page.cursor
                self.state.exhausted = not page.cursor
            self._count(outcome)
            chunks += 1
        if request.kind is BatchKind.EXAM_DAY and not progress.outputs:
            # Only this kind, new with it: the other kinds' commands are unchanged.
            progress.outputs = await self._activity(
                names.BATCH_EXAM_DAY_FILES, ChunkInput(request, batch_key), list[BatchOutput]
            )
        progress.finished_at = workflow.now()
        if progress.total is not None and progress.processed > progress.total:
            progress.total = progress.processed  # dossiers that entered the selection meanwhile
        return progress

    def _count(self, outcome: ChunkOutcome) -> None:
        progress = self.state.progress
        progress.processed += outcome.processed
        progress.applied += outcome.applied
        progress.refused += len(outcome.issues)
        room = max(0, MAX_ISSUES_KEPT - len(progress.issues))
        progress.issues.extend(outcome.issues[:room])
        progress.issues_not_kept += max(0, len(outcome.issues) - room)

    async def _activity(self, name: str, arg: object, result_type: Any):
        heartbeat = timedelta(seconds=self.state.request.heartbeat_seconds)
        return await workflow.execute_activity(
            name,
            arg,
            result_type=result_type,
            # A chunk of a few hundred dossiers takes seconds; the heartbeat, not this bound,
            # is what notices a dead worker.
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=heartbeat,
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
        )

    @workflow.query(name=names.BATCH_PROGRESS)
    def progress(self) -> BatchProgress:
        return self.state.progress
