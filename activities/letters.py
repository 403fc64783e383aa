"""The centre's letters: print the PDF, store it, and deposit it in the dossier — once.

The dossier's workflow orders its letters through the `print_letter` activity (after a
decision, a result, or a staff request) and deposits what it returns itself, so a decision and
its letter are durable together. The bulk actions, which are activities already, print and
deposit through `DocumentIssuer.issue`. Each letter has a key saying what it is for; the key
finds an earlier copy (`GeneratedDocument`), and a deposit carries an update ID derived from
it, so a retry or a second click never deposits a second copy. The dossier workflow decides
when the candidate sees it (convocations about 15 days before the exam) and emails them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.rendering import LetterRenderer
from domain.campaign import ExamDate, ExamKind
from domain.documents import CentreDocument, CentreDocumentKind
from domain.dossier import Dossier, Refusal
from domain.exams import ExamResult, result_of
from domain.letters import LetterKind, LetterOrder, PrintOrder, check_letter
from domain.marks import Mark
from infra.access_maps import access_maps
from infra.clock import now
from infra.database import Database, StoredFile
from infra.files import FileStore
from infra.generated_documents import GeneratedDocument
from letters.attendance import attendance_certificate
from letters.convocation import convocation
from letters.layout import LetterContext
from letters.regularisation import regularisation_request
from letters.rejection import rejection_letter
from letters.result import LABELS as RESULT_LABELS
from letters.result import result_letter
from letters.transcript import transcript
from workflows import names
from workflows.client import WorkflowClient
from workflows.dossier import REFUSAL, DossierWorkflow

# The dossier sets the deposit and release instants itself; these only fill the fields.
_PLACEHOLDER = datetime(1970, 1, 1, tzinfo=UTC)


class DepositRefused(Exception):
    """The dossier refused the document (e.g. a convocation for a candidate not admitted)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Issued:
    ref: str
    title: str
    deposited: bool  # False when the dossier already held this very document


@dataclass
class Letter:
    """One letter for one dossier: its key (what it is for), its kind and title, its renderer."""

    key: str
    kind: CentreDocumentKind
    title: str
    # Picklable (a `partial` of a module's function): it may run in a render process.
    render: Callable[[], bytes]
    exam_code: str | None = None
    # What a convocation prints for the candidate's accommodations (None for other letters).
    accommodations: list[str] | None = None


def _filename(title: str, dossier_number: str) -> str:
    """« Convocation — Épreuve écrite » -> "convocation-epreuve-ecrite-RED2027-00012.pdf"."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return f"{slug[:80]}-{dossier_number}.pdf"


# ----------------------------------------------------------------------------- the letters
def regularisation(dossier: Dossier) -> Letter:
    reg = dossier.regularisation
    if reg is None:
        raise Refusal("Aucune demande de pièces n'a été faite pour ce dossier.")
    route = dossier.route
    labels = [category.label if (category := route.category(m)) else m for m in reg.missing]
    ctx = LetterContext.of(dossier, now())
    return Letter(
        f"{dossier.dossier_number}/regularisation",
        CentreDocumentKind.REGULARISATION,
        "Demande de régularisation",
        partial(regularisation_request, ctx, labels, reg.deadline, reg.note),
    )


def rejection(dossier: Dossier) -> Letter:
    if not dossier.decision_reasons:
        raise Refusal("Ce dossier n'a pas été rejeté.")
    ctx = LetterContext.of(dossier, now())
    return Letter(
        f"{dossier.dossier_number}/rejet",
        CentreDocumentKind.REJECTION_LETTER,
        "Courrier de non admission à concourir",
        partial(rejection_letter, ctx, dossier.status.label, dossier.decision_reasons),
    )


@dataclass(frozen=True)
class AccessMapFile:
    """An exam's access map as a convocation takes it: where the picture is, read where the
    letter renders (a render process reads it once, rather than receive 10,000 copies)."""

    path: Path

    def read(self) -> bytes:
        return _read_picture(self.path)


@lru_cache(maxsize=8)
def _read_picture(path: Path) -> bytes:
    return path.read_bytes()  # a stored file's content never changes under its reference


def _convocation(ctx: LetterContext, exam: ExamDate, access_map: AccessMapFile | None, granted: list[str]) -> bytes:
    return convocation(ctx, exam, access_map.read() if access_map else None, granted)


def convocation_letter(dossier: Dossier, exam: ExamDate, access_map: AccessMapFile | None, version: str = "") -> Letter:
    """The first convocation keeps the plain key (the campaign overview counts those); a version
    printed again after an accommodation decision has a key of its own."""
    ctx = LetterContext.of(dossier, now())
    granted = dossier.granted_accommodations()
    key = f"{dossier.dossier_number}/convocation/{exam.code}"
    return Letter(
        f"{key}/{version}" if version else key,
        CentreDocumentKind.CONVOCATION,
        f"Convocation — {exam.label}",
        partial(_convocation, ctx, exam, access_map, granted),
        exam_code=exam.code,
        accommodations=granted,
    )


def attendance(dossier: Dossier, exam: ExamDate) -> Letter:
    ctx = LetterContext.of(dossier, now())
    return Letter(
        f"{dossier.dossier_number}/attestation/{exam.code}",
        CentreDocumentKind.ATTENDANCE,
        f"Attestation de présence — {exam.label}",
        partial(attendance_certificate, ctx, exam),
    )


def transcript_letter(dossier: Dossier, marks: list[Mark], result: ExamResult) -> Letter:
    written = result.stage is ExamKind.WRITTEN
    stage = "ecrit" if written else "oral"
    title = "Relevé de notes — " + ("épreuves d'admissibilité" if written else "épreuves d'admission")
    ctx = LetterContext.of(dossier, now())
    return Letter(
        f"{dossier.dossier_number}/releve/{stage}",
        CentreDocumentKind.TRANSCRIPT,
        title,
        partial(transcript, ctx, marks, RESULT_LABELS[result]),
    )


def result(dossier: Dossier, exam_result: ExamResult) -> Letter:
    ctx = LetterContext.of(dossier, now())
    return Letter(
        f"{dossier.dossier_number}/resultat/{exam_result.value}",
        CentreDocumentKind.RESULT_LETTER,
        f"Courrier de résultat — {RESULT_LABELS[exam_result]}",
        partial(result_letter, ctx, exam_result),
    )


def exams_of_stage(dossier: Dossier, exam_result: ExamResult) -> list[ExamDate]:
    """The exam dates a result concludes (an attendance certificate for each)."""
    return [e for e in dossier.campaign.exams if e.kind is exam_result.stage]


def _recorded_result(dossier: Dossier) -> ExamResult:
    result = result_of(dossier.status)
    assert result is not None, "check_letter refuses a transcript before a result"
    return result


# ----------------------------------------------------------------------------- printing
class DocumentIssuer:
    def __init__(
        self, client: WorkflowClient, database: Database, files: FileStore, renderer: LetterRenderer | None = None
    ) -> None:
        self.client = client
        self.database = database
        self.files = files
        self.renderer = renderer or LetterRenderer()

    async def letter(self, dossier: Dossier, order: LetterOrder) -> Letter:
        """The letter an order asks for; a `Refusal` when it does not fit the dossier."""
        check_letter(dossier, order, now())
        kind = order.kind
        if kind is LetterKind.REGULARISATION:
            return regularisation(dossier)
        if kind is LetterKind.REJECTION:
            return rejection(dossier)
        if kind is LetterKind.TRANSCRIPT:
            return transcript_letter(dossier, order.marks, _recorded_result(dossier))
        if kind is LetterKind.RESULT:
            return result(dossier, order.result or _recorded_result(dossier))
        exam = dossier.campaign.exam(order.exam_code or "")
        assert exam is not None, "check_letter refuses an unknown exam"
        if kind is LetterKind.ATTENDANCE:
            return attendance(dossier, exam)
        access_map = await self.access_map(dossier.campaign.id, exam.code)
        return convocation_letter(dossier, exam, access_map, order.version)

    async def access_map(self, campaign_id: str, exam_code: str) -> AccessMapFile | None:
        """The exam's access map, joined to its convocations, if staff uploaded one."""
        async with self.database.sessions() as session:
            maps = await access_maps(session, campaign_id)
        return AccessMapFile(self.files.path(maps[exam_code].ref)) if exam_code in maps else None

    async def print(self, dossier: Dossier, letter: Letter) -> CentreDocument:
        """The document to deposit: rendered and stored the first time, found again after."""
        ref, rendered = await self._stored(dossier.dossier_number, letter)
        return CentreDocument(
            ref=ref,
            kind=letter.kind,
            title=letter.title,
            exam_code=letter.exam_code,
            deposited_at=_PLACEHOLDER,
            release_at=_PLACEHOLDER,
            # A copy found under its key was rendered earlier, maybe before a decision changed
            # what it would print: unknown then, and the dossier judges by instants.
            accommodations=letter.accommodations if rendered else None,
        )

    @activity.defn(name=names.PRINT_LETTER)
    async def print_letter(self, input: PrintOrder) -> CentreDocument:
        """The workflow's letters: print what the order asks; the workflow deposits it."""
        try:
            letter = await self.letter(input.dossier, input.order)
        except Refusal as refusal:
            raise ApplicationError(refusal.message, type=REFUSAL, non_retryable=True) from None
        document = await self.print(input.dossier, letter)
        activity.logger.info("Dossier %s: %s printed (%s)", input.dossier.dossier_number, letter.title, document.ref)
        return document

    async def issue(self, dossier: Dossier, letter: Letter) -> Issued:
        """Print and deposit from an activity (the bulk actions); a refusal → `DepositRefused`."""
        document = await self.print(dossier, letter)
        if any(d.ref == document.ref for d in dossier.documents):
            return Issued(document.ref, letter.title, deposited=False)
        number = dossier.dossier_number
        try:
            await self.client.update(
                number, DossierWorkflow.deposit_document, document, update_id=f"deposit/{letter.key}"
            )
        except Refusal as refusal:
            # A concurrent call may have deposited it between our view and this update.
            if any(d.ref == document.ref for d in (await self.client.view(number)).documents):
                return Issued(document.ref, letter.title, deposited=False)
            raise DepositRefused(refusal.message) from refusal
        return Issued(document.ref, letter.title, deposited=True)

    async def _stored(self, number: str, letter: Letter) -> tuple[str, bool]:
        """The file reference of this letter, rendering and storing it the first time; whether
        this call rendered it."""
        async with self.database.sessions() as session:
            found = await session.scalar(select(GeneratedDocument.ref).where(GeneratedDocument.key == letter.key))
            if found is not None:
                return found, False
        # Rendering is CPU work of ~10-20 ms, and writing the file waits for the disk (fsync):
        # both off the event loop (in a render process: `activities.rendering`), so heartbeats
        # and the other dossiers of a chunk keep moving.
        stored = await self.renderer.render_and_save(letter.render, self.files)
        ref = stored.ref
        # Core inserts, not ORM objects: a bulk action stores thousands of these.
        async with self.database.sessions() as session:
            try:
                await session.execute(
                    insert(StoredFile).values(
                        ref=ref,
                        dossier_number=number,
                        filename=_filename(letter.title, number),
                        content_type="application/pdf",
                        size=stored.size,
                        sha256=stored.sha256,
                    )
                )
                await session.execute(
                    insert(GeneratedDocument).values(
                        key=letter.key, ref=ref, dossier_number=number, kind=str(letter.kind)
                    )
                )
                await session.commit()
            except IntegrityError:  # a concurrent attempt stored it first: keep theirs
                await session.rollback()
                self.files.delete(ref)
                found = await session.scalar(select(GeneratedDocument.ref).where(GeneratedDocument.key == letter.key))
                assert found is not None
                return found, False
        return ref, True
