"""The bulk actions' I/O: list dossiers by visibility, and apply one chunk of work.

Each chunk activity sends its dossier messages with bounded concurrency and heartbeats after
every dossier, so a worker that dies mid-chunk is noticed within the heartbeat timeout and the
chunk is retried elsewhere. Retrying is safe: every update carries an ID derived from the batch
and the item (the server answers a repeated ID with the first outcome), and letters are keyed
(`activities/letters.py`). What a dossier refuses is reported, never retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.letters import (
    DepositRefused,
    DocumentIssuer,
    attendance,
    convocation_letter,
    exams_of_stage,
    transcript_letter,
)
from domain.campaign import Campaign, ExamDate
from domain.decisions import Decision, DecisionKind
from domain.dossier import Dossier, Refusal
from domain.exams import convened_statuses
from domain.results_file import BadResultsFile, ResultRow, ResultsFile, RowIssue, parse_results
from domain.status import Status
from infra.clock import now
from infra.database import Database, get_campaign
from infra.exam_day import ExamDayEntry
from infra.files import FileStore
from letters.exam_day import (
    Convened,
    Heading,
    accommodations_list,
    attendance_sheet,
    convened_csv,
    door_list,
    sort_key,
)
from workflows import names
from workflows.batch import (
    BatchKind,
    BatchOutput,
    BatchRequest,
    ChunkInput,
    ChunkOutcome,
    CountInput,
    ItemIssue,
    Page,
    PageInput,
)
from workflows.client import NotFound, Unavailable, WorkflowClient
from workflows.dossier import DossierWorkflow, ResultEntry
from workflows.visibility import DossierFilter, dossier_query

T = TypeVar("T")

# Tries of one dossier's message within a chunk when Temporal answers late (`Unavailable`).
# Seen on a saturated machine (load 25 on 2 cores, bench.bulk_convocations): a chunk of 100
# failed as a whole on one timed-out view at each of its 11 attempts in 6 minutes, so the
# batch never moved.
ITEM_TRIES = 4


def selection_query(request: BatchRequest, exam_kind_statuses: list[Status] | None = None) -> str:
    """The open dossiers a visibility batch works through."""
    statuses = [Status.COMPLETE] if request.kind is BatchKind.ADMIT_COMPLETE else exam_kind_statuses or []
    return dossier_query(DossierFilter(campaign_id=request.campaign_id, statuses=statuses, running_only=True))


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BatchActivities:
    def __init__(self, client: WorkflowClient, database: Database, files: FileStore, issuer: DocumentIssuer) -> None:
        self.client = client
        self.database = database
        self.files = files
        self.issuer = issuer
        self._parsed: dict[str, ResultsFile] = {}

    # ------------------------------------------------------------------ selection
    async def _query(self, request: BatchRequest) -> str:
        if request.kind in (BatchKind.CONVOCATIONS, BatchKind.EXAM_DAY):
            _, exam = await self._exam(request)
            return selection_query(request, convened_statuses(exam.kind))
        return selection_query(request)

    async def _exam(self, request: BatchRequest) -> tuple[Campaign, ExamDate]:
        async with self.database.sessions() as session:
            campaign = await get_campaign(session, request.campaign_id)
        exam = campaign.exam(request.exam_code) if campaign else None
        if campaign is None or exam is None:
            raise ApplicationError(f"Épreuve inconnue : {request.exam_code}.", non_retryable=True)
        return campaign, exam

    @activity.defn(name=names.BATCH_COUNT)
    async def count(self, input: CountInput) -> int:
        """How much work there is: matching dossiers, or the file's data lines."""
        if input.request.kind is BatchKind.RESULTS:
            return len(self._results_file(input.request).items)
        return await self.client.count(await self._query(input.request))

    @activity.defn(name=names.BATCH_LIST_PAGE)
    async def list_page(self, input: PageInput) -> Page:
        """One page of the selection; the page token is a keyset cursor, so dossiers leaving
        the selection as they are processed (admitted ones) do not shift later pages."""
        page = await self.client.id_page(await self._query(input.request), input.request.page_size, input.cursor)
        return Page(page.ids, page.next_token)

    # ------------------------------------------------------------------ the actions
    @activity.defn(name=names.BATCH_ADMIT)
    async def admit(self, input: ChunkInput) -> ChunkOutcome:
        decision = Decision(DecisionKind.ADMIT, by=input.request.requested_by)

        async def admit_one(number: str) -> None:
            await self._update(number, DossierWorkflow.decide, decision, f"{input.batch_key}/{number}")

        return await self._each(input.request, input.dossiers, admit_one)

    @activity.defn(name=names.BATCH_CONVOCATIONS)
    async def convocations(self, input: ChunkInput) -> ChunkOutcome:
        request = input.request
        _, exam = await self._exam(request)
        access_map = await self.issuer.access_map(request.campaign_id, exam.code)

        async def convene(number: str) -> None:
            dossier = await self._view(number)
            if dossier.campaign.id != request.campaign_id:
                raise _Refused("Ce dossier n'appartient pas à cette session.")
            try:
                issued = await self.issuer.issue(dossier, convocation_letter(dossier, exam, access_map))
            except DepositRefused as refused:
                raise _Refused(refused.message) from None
            if not issued.deposited:
                raise _Refused("Convocation déjà déposée dans ce dossier.")

        return await self._each(request, input.dossiers, convene)

    @activity.defn(name=names.BATCH_EXAM_DAY)
    async def exam_day(self, input: ChunkInput) -> ChunkOutcome:
        """Record each convened candidate of the chunk (name, birth date, granted
        accommodations) for the exam-day documents; a retry merges the same rows."""
        request = input.request
        rows: list[ExamDayEntry] = []

        async def record(number: str) -> None:
            dossier = await self._view(number)
            if dossier.campaign.id != request.campaign_id:
                raise _Refused("Ce dossier n'appartient pas à cette session.")
            candidate = dossier.registration.candidate
            rows.append(
                ExamDayEntry(
                    batch_key=input.batch_key,
                    dossier_number=number,
                    sort_key=sort_key(candidate.last_name, candidate.first_name),
                    civility=candidate.civility,
                    last_name=candidate.last_name,
                    first_name=candidate.first_name,
                    birth_date=candidate.birth_date,
                    route=dossier.route.label,
                    accommodations="\n".join(dossier.granted_accommodations()),
                )
            )

        outcome = await self._each(request, input.dossiers, record)
        async with self.database.sessions() as session:
            for row in rows:
                await session.merge(row)
            await session.commit()
        return outcome

    @activity.defn(name=names.BATCH_EXAM_DAY_FILES)
    async def exam_day_files(self, input: ChunkInput) -> list[BatchOutput]:
        """Lay out the exam's documents from the recorded rows, alphabetical."""
        campaign, exam = await self._exam(input.request)
        async with self.database.sessions() as session:
            entries = (
                await session.scalars(
                    select(ExamDayEntry)
                    .where(ExamDayEntry.batch_key == input.batch_key)
                    .order_by(ExamDayEntry.sort_key, ExamDayEntry.dossier_number)
                )
            ).all()
        candidates = [
            Convened(
                e.dossier_number,
                e.civility,
                e.last_name,
                e.first_name,
                e.birth_date,
                e.route,
                [line for line in e.accommodations.split("\n") if line],
            )
            for e in entries
        ]
        heading = Heading(campaign.organiser, campaign.grade, exam, campaign.time_zone, now())
        slug = f"{campaign.id}-{exam.code}"
        documents = [
            ("Liste d'émargement", f"emargement-{slug}.pdf", "application/pdf", attendance_sheet),
            ("Liste de porte", f"liste-de-porte-{slug}.pdf", "application/pdf", door_list),
            ("Aménagements d'épreuves accordés", f"amenagements-{slug}.pdf", "application/pdf", accommodations_list),
            ("Candidats convoqués (CSV)", f"convoques-{slug}.csv", "text/csv; charset=utf-8", convened_csv),
        ]
        outputs = []
        for title, filename, content_type, render in documents:
            # Thousands of rows take seconds to lay out: in a thread, heartbeating meanwhile.
            task = asyncio.ensure_future(asyncio.to_thread(render, heading, candidates))
            while not task.done():
                await asyncio.wait([task], timeout=5)
                activity.heartbeat(title)
            ref, _ = await asyncio.to_thread(self.files.save, task.result())
            outputs.append(BatchOutput(f"{title} — {exam.label} ({len(candidates)})", ref, filename, content_type))
        return outputs

    @activity.defn(name=names.BATCH_RESULTS)
    async def results(self, input: ChunkInput) -> ChunkOutcome:
        request = input.request
        items = self._results_file(request).items
        chunk = items[input.start : input.start + request.page_size]
        rows = [i for i in chunk if isinstance(i, ResultRow)]
        issues = [
            ItemIssue(f"ligne {i.line}", f"{i.dossier_number or '?'} : {i.message}")
            for i in chunk
            if isinstance(i, RowIssue)
        ]

        async def apply(row: ResultRow) -> None:
            try:
                dossier = await self._view(row.dossier_number)
            except _Refused as refused:
                raise _Refused(f"{row.dossier_number} : {refused.message}") from None
            if dossier.campaign.id != request.campaign_id:
                raise _Refused(f"{row.dossier_number} : ce dossier n'appartient pas à cette session.")
            try:
                await self._update(
                    row.dossier_number,
                    DossierWorkflow.record_result,
                    ResultEntry(row.result, request.requested_by),
                    f"{input.batch_key}/ligne-{row.line}",
                )
            except _Refused as refused:
                raise _Refused(f"{row.dossier_number} : {refused.message}") from None
            # The dossier prints its result letter itself; the transcript and the attendance
            # certificates come from the file.
            dossier = await self._view(row.dossier_number)
            if row.marks:
                await self.issuer.issue(dossier, transcript_letter(dossier, row.marks, row.result))
            if row.present:
                for exam in exams_of_stage(dossier, row.result):
                    await self.issuer.issue(dossier, attendance(dossier, exam))

        outcome = await self._each(request, rows, apply, item_name=lambda row: f"ligne {row.line}")
        outcome.processed += len(issues)
        outcome.issues = sorted(issues + outcome.issues, key=lambda i: int(i.item.split()[-1]))
        end = input.start + len(chunk)
        outcome.cursor = str(end) if end < len(items) else ""
        return outcome

    # ------------------------------------------------------------------ helpers
    async def _update(self, number: str, update: Any, arg: object, update_id: str) -> None:
        """Send an update under a deterministic ID; the dossier's refusal becomes `_Refused`."""
        try:
            await self.client.update(number, update, arg, update_id=update_id)
        except Refusal as refusal:
            raise _Refused(refusal.message) from None
        except NotFound:
            raise _Refused("dossier introuvable.") from None

    async def _view(self, number: str) -> Dossier:
        try:
            return await self.client.view(number)
        except NotFound:
            raise _Refused("dossier introuvable.") from None

    def _results_file(self, request: BatchRequest) -> ResultsFile:
        """The parsed file; kept for the next chunks (a file reference never changes content),
        so a 50,000-line file is not parsed again for each of its 500 chunks."""
        if request.file_ref not in self._parsed:
            try:
                parsed = parse_results(self.files.read(request.file_ref))
            except BadResultsFile as bad:
                raise ApplicationError(bad.args[0], type="BadResultsFile", non_retryable=True) from None
            if len(self._parsed) >= 4:
                self._parsed.pop(next(iter(self._parsed)))
            self._parsed[request.file_ref] = parsed
        return self._parsed[request.file_ref]

    async def _each(
        self,
        request: BatchRequest,
        items: list[T],
        work: Callable[[T], Awaitable[None]],
        item_name: Callable[[T], str] = str,
    ) -> ChunkOutcome:
        """Run `work` on every item, `request.concurrency` at a time; a refusal becomes an
        issue, any other error fails the chunk (retried as a whole, deduplicated)."""
        limit = asyncio.Semaphore(request.concurrency)
        issues: list[ItemIssue] = []
        done = 0

        async def one(item: T) -> None:
            nonlocal done
            async with limit:
                for attempt in range(1, ITEM_TRIES + 1):
                    try:
                        await work(item)
                    except _Refused as refused:
                        issues.append(ItemIssue(item_name(item), refused.message))
                    except Unavailable:
                        # A query or update that timed out on a saturated worker: try this item
                        # again (it is idempotent) rather than fail, and redo, the whole chunk.
                        if attempt == ITEM_TRIES:
                            raise
                        activity.heartbeat(done)
                        await asyncio.sleep(2 ** (attempt - 1))
                        continue
                    break
                done += 1
                activity.heartbeat(done)

        try:
            # A TaskGroup cancels the other items as soon as one fails for a technical reason.
            async with asyncio.TaskGroup() as group:
                for item in items:
                    group.create_task(one(item))
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        issues.sort(key=lambda i: i.item)
        return ChunkOutcome(processed=len(items), applied=len(items) - len(issues), issues=issues)
