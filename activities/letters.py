"""Issue the centre's letters: render the PDF, store it, deposit it in the dossier — once.

Used by the bulk actions' activities and by the staff pages for one dossier. Each letter has a
key saying what it is for; the key finds an earlier copy (`GeneratedDocument`), and the deposit
carries an update ID derived from it, so a retry or a second click never deposits a second
copy. The dossier workflow decides when the candidate sees it (convocations about 15 days
before the exam) and emails them.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.campaign import ExamDate, ExamKind
from domain.documents import CentreDocument, CentreDocumentKind
from domain.dossier import Dossier
from domain.exams import ExamResult
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
from letters.transcript import Mark, transcript
from workflows import names
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


def _filename(title: str, dossier_number: str) -> str:
    """« Convocation — Épreuve écrite » -> "convocation-epreuve-ecrite-RED2027-00012.pdf"."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return f"{slug[:80]}-{dossier_number}.pdf"


class DocumentIssuer:
    def __init__(self, client: Client, database: Database, files: FileStore) -> None:
        self.client = client
        self.database = database
        self.files = files

    async def view(self, dossier_number: str) -> Dossier:
        handle = self.client.get_workflow_handle_for(DossierWorkflow.run, names.dossier_workflow_id(dossier_number))
        return await handle.query(DossierWorkflow.view)

    async def issue(
        self,
        dossier: Dossier,
        key: str,
        kind: CentreDocumentKind,
        title: str,
        render: Callable[[], bytes],
        exam_code: str | None = None,
    ) -> Issued:
        number = dossier.dossier_number
        ref = await self._stored(number, key, kind, title, render)
        if any(d.ref == ref for d in dossier.documents):
            return Issued(ref, title, deposited=False)
        document = CentreDocument(
            ref=ref, kind=kind, title=title, exam_code=exam_code,
            deposited_at=_PLACEHOLDER, release_at=_PLACEHOLDER,
        )
        handle = self.client.get_workflow_handle_for(DossierWorkflow.run, names.dossier_workflow_id(number))
        try:
            await handle.execute_update(DossierWorkflow.deposit_document, document, id=f"deposit/{key}")
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == REFUSAL:
                # A concurrent call may have deposited it between our view and this update.
                if any(d.ref == ref for d in (await self.view(number)).documents):
                    return Issued(ref, title, deposited=False)
                raise DepositRefused(cause.message) from exc
            raise
        return Issued(ref, title, deposited=True)

    async def _stored(self, number: str, key: str, kind: CentreDocumentKind, title: str, render: Callable[[], bytes]) -> str:
        """The file reference of this letter, rendering and storing it the first time."""
        async with self.database.sessions() as session:
            row = await session.get(GeneratedDocument, key)
            if row is not None:
                return row.ref
        # Rendering is CPU work of ~10-20 ms: off the event loop, so heartbeats and the other
        # dossiers of the chunk keep moving.
        data = await asyncio.to_thread(render)
        ref, sha256 = self.files.save(data)
        async with self.database.sessions() as session:
            session.add(StoredFile(
                ref=ref, dossier_number=number, filename=_filename(title, number),
                content_type="application/pdf", size=len(data), sha256=sha256,
            ))
            session.add(GeneratedDocument(key=key, ref=ref, dossier_number=number, kind=str(kind)))
            try:
                await session.commit()
            except IntegrityError:  # a concurrent attempt stored it first: keep theirs
                await session.rollback()
                self.files.delete(ref)
                row = await session.get(GeneratedDocument, key)
                assert row is not None
                return row.ref
        return ref

    # ------------------------------------------------------------------ the letters
    async def regularisation(self, dossier: Dossier) -> Issued:
        reg = dossier.regularisation
        if reg is None:
            raise DepositRefused("Aucune demande de pièces n'a été faite pour ce dossier.")
        labels = [(dossier.route.category(m).label if dossier.route.category(m) else m) for m in reg.missing]  # type: ignore[union-attr]
        ctx = LetterContext.of(dossier, datetime.now(UTC))
        return await self.issue(
            dossier, f"{dossier.dossier_number}/regularisation", CentreDocumentKind.REGULARISATION,
            "Demande de régularisation", lambda: regularisation_request(ctx, labels, reg.deadline, reg.note),
        )

    async def rejection(self, dossier: Dossier) -> Issued:
        if not dossier.decision_reasons:
            raise DepositRefused("Ce dossier n'a pas été rejeté.")
        ctx = LetterContext.of(dossier, datetime.now(UTC))
        return await self.issue(
            dossier, f"{dossier.dossier_number}/rejet", CentreDocumentKind.REJECTION_LETTER,
            "Courrier de non admission à concourir",
            lambda: rejection_letter(ctx, dossier.status.label, dossier.decision_reasons),
        )

    async def convocation(self, dossier: Dossier, exam: ExamDate, access_map: bytes | None) -> Issued:
        ctx = LetterContext.of(dossier, datetime.now(UTC))
        return await self.issue(
            dossier, f"{dossier.dossier_number}/convocation/{exam.code}", CentreDocumentKind.CONVOCATION,
            f"Convocation — {exam.label}", lambda: convocation(ctx, exam, access_map), exam_code=exam.code,
        )

    async def attendance(self, dossier: Dossier, exam: ExamDate) -> Issued:
        ctx = LetterContext.of(dossier, datetime.now(UTC))
        return await self.issue(
            dossier, f"{dossier.dossier_number}/attestation/{exam.code}", CentreDocumentKind.ATTENDANCE,
            f"Attestation de présence — {exam.label}", lambda: attendance_certificate(ctx, exam),
        )

    async def transcript(self, dossier: Dossier, marks: list[Mark], result: ExamResult) -> Issued:
        written = result.stage is ExamKind.WRITTEN
        stage = "ecrit" if written else "oral"
        title = "Relevé de notes — " + ("épreuves d'admissibilité" if written else "épreuves d'admission")
        ctx = LetterContext.of(dossier, datetime.now(UTC))
        return await self.issue(
            dossier, f"{dossier.dossier_number}/releve/{stage}", CentreDocumentKind.TRANSCRIPT,
            title, lambda: transcript(ctx, marks, RESULT_LABELS[result]),
        )

    async def result_letter(self, dossier: Dossier, result: ExamResult) -> Issued:
        ctx = LetterContext.of(dossier, datetime.now(UTC))
        return await self.issue(
            dossier, f"{dossier.dossier_number}/resultat/{result.value}", CentreDocumentKind.RESULT_LETTER,
            f"Courrier de résultat — {RESULT_LABELS[result]}", lambda: result_letter(ctx, result),
        )


def exams_of_stage(dossier: Dossier, result: ExamResult) -> list[ExamDate]:
    """The exam dates a result concludes: the written tests for (non) admissible, the orals
    for admis / non admis."""
    return [e for e in dossier.campaign.exams if e.kind is result.stage]
