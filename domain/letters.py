"""The centre's letters: which letter a dossier may receive now, and what an order for one holds.

A letter is printed by an activity and deposited by the dossier's workflow (its decision and
its letter are durable together). These rules say, before anything is printed, whether the
letter fits the dossier; the dossier's own deposit rules (`Dossier.check_deposit`) still apply.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.campaign import ExamDate
from domain.decisions import DecisionKind
from domain.documents import CentreDocumentKind
from domain.dossier import Dossier, Refusal
from domain.exams import ExamResult, result_of, was_convened
from domain.marks import Mark


class LetterKind(StrEnum):
    REGULARISATION = "regularisation"
    REJECTION = "rejet"
    CONVOCATION = "convocation"
    ATTENDANCE = "attestation"
    TRANSCRIPT = "releve"
    RESULT = "resultat"

    @property
    def document_kind(self) -> CentreDocumentKind:
        return _DOCUMENT_KINDS[self]

    @property
    def needs_an_exam(self) -> bool:
        return self in (LetterKind.CONVOCATION, LetterKind.ATTENDANCE)


_DOCUMENT_KINDS = {
    LetterKind.REGULARISATION: CentreDocumentKind.REGULARISATION,
    LetterKind.REJECTION: CentreDocumentKind.REJECTION_LETTER,
    LetterKind.CONVOCATION: CentreDocumentKind.CONVOCATION,
    LetterKind.ATTENDANCE: CentreDocumentKind.ATTENDANCE,
    LetterKind.TRANSCRIPT: CentreDocumentKind.TRANSCRIPT,
    LetterKind.RESULT: CentreDocumentKind.RESULT_LETTER,
}

# The letter that goes with a decision, issued by the workflow once the decision is recorded.
LETTER_OF_DECISION: dict[DecisionKind, LetterKind] = {
    DecisionKind.INCOMPLETE: LetterKind.REGULARISATION,
    DecisionKind.REJECT: LetterKind.REJECTION,
    DecisionKind.NON_CONFORMING: LetterKind.REJECTION,
}


@dataclass
class LetterOrder:
    """What staff (or the workflow, after a decision or a result) ask to be printed."""

    kind: LetterKind
    by: str = ""
    exam_code: str | None = None
    marks: list[Mark] = field(default_factory=list)
    result: ExamResult | None = None  # the result letter's result; others use the status's
    # A later version of a letter already printed (a convocation printed again after a decision
    # on accommodations): its key gets this suffix, so it is printed anew rather than found.
    version: str = ""


def check_letter(dossier: Dossier, order: LetterOrder, now: datetime) -> None:
    """Refuse, with the reason in French, a letter that does not fit the dossier now."""
    kind = order.kind
    if kind.needs_an_exam:
        exam = dossier.campaign.exam(order.exam_code or "")
        if exam is None:
            raise Refusal("Choisissez une épreuve de la session.")
        if kind is LetterKind.ATTENDANCE and not was_convened(dossier.status, exam.kind):
            raise Refusal(
                f"Attestation de présence : le candidat n'a pas été convoqué à cette épreuve ({dossier.status.label})."
            )
    if kind is LetterKind.REGULARISATION and dossier.regularisation is None:
        raise Refusal("Aucune demande de pièces n'a été faite pour ce dossier.")
    if kind is LetterKind.REJECTION and not dossier.decision_reasons:
        raise Refusal("Ce dossier n'a pas été rejeté.")
    if kind is LetterKind.TRANSCRIPT:
        if result_of(dossier.status) is None:
            raise Refusal("Le relevé de notes suit un résultat : enregistrez d'abord le résultat.")
        if not order.marks:
            raise Refusal("Indiquez au moins une note, une épreuve par ligne : « épreuve ; note ».")
    if kind is LetterKind.RESULT and (order.result or result_of(dossier.status)) is None:
        raise Refusal("Le courrier de résultat suit un résultat : enregistrez d'abord le résultat.")
    dossier.check_deposit(kind.document_kind, order.exam_code if kind is LetterKind.CONVOCATION else None, now)


@dataclass(frozen=True)
class ExamLetters:
    """A letter about an exam that staff may ask for now, and the exams it fits."""

    kind: LetterKind
    exams: list[ExamDate]


def exam_letters(dossier: Dossier, now: datetime) -> list[ExamLetters]:
    """The convocations and attendance certificates the dossier takes now, per exam: exactly
    what `check_letter` accepts, so the staff page offers nothing the workflow would refuse
    (none on a rejected or cancelled dossier, an oral's convocation only once admissible)."""
    offers = []
    for kind in (LetterKind.CONVOCATION, LetterKind.ATTENDANCE):
        exams = []
        for exam in dossier.campaign.exams:
            try:
                check_letter(dossier, LetterOrder(kind, exam_code=exam.code), now)
            except Refusal:
                continue
            exams.append(exam)
        if exams:
            offers.append(ExamLetters(kind, exams))
    return offers


@dataclass
class PrintOrder:
    """The print activity's input: the dossier as it stands, and the letter to print."""

    dossier: Dossier
    order: LetterOrder
