"""Exams from the dossier's side: results, who is convened to which kind of exam, who can
still sit one.

The written tests ("admissibilité") end in admissible / non admissible; the orals ("admission"),
for admissible candidates only, end in admis / non admis. This module is the one place that
maps statuses, results and exam kinds onto each other.
"""

from enum import StrEnum

from domain.campaign import ExamKind
from domain.status import Status


class ExamResult(StrEnum):
    ADMISSIBLE = "admissible"
    NOT_ADMISSIBLE = "non_admissible"
    PASSED = "admis"
    FAILED = "non_admis"

    @property
    def stage(self) -> ExamKind:
        """The kind of exam this result concludes."""
        if self in (ExamResult.ADMISSIBLE, ExamResult.NOT_ADMISSIBLE):
            return ExamKind.WRITTEN
        return ExamKind.ORAL

    @property
    def status(self) -> Status:
        """The dossier's status once this result is recorded (same code)."""
        return Status(self.value)

    @property
    def allowed_from(self) -> frozenset[Status]:
        """The statuses this result may be recorded from."""
        return RESULTS_FROM[self]


def result_of(status: Status) -> ExamResult | None:
    """The result a status records, if it is one (a transcript follows a result)."""
    return next((r for r in ExamResult if r.status is status), None)


def convened_statuses(kind: ExamKind) -> list[Status]:
    """Who is convened: admitted candidates (under reserve too) to the written tests,
    admissible ones to the orals."""
    return list(CONVENED[kind])


def is_convened(status: Status, kind: ExamKind) -> bool:
    return status in CONVENED[kind]


def was_convened(status: Status, kind: ExamKind) -> bool:
    """Whether the candidate is or was convened to an exam of this kind (its result may be
    recorded since): who an attendance certificate can be for."""
    return status in CONVENED[kind] or status in SAT[kind]


def may_sit(status: Status, kind: ExamKind | None) -> bool:
    """Whether a candidate can still sit (or has sat) an exam of this kind, so that its
    convocation still makes sense; None for a document about no known exam."""
    if status in CANNOT_SIT:
        return False
    if kind is ExamKind.ORAL:
        return status in REACHED_ORALS
    return True


CONVENED: dict[ExamKind, tuple[Status, ...]] = {
    ExamKind.WRITTEN: (Status.ADMITTED, Status.ADMITTED_UNDER_RESERVE),
    ExamKind.ORAL: (Status.ADMISSIBLE,),
}

# Convened once, results since: the written tests' results, then the orals'.
SAT: dict[ExamKind, frozenset[Status]] = {
    ExamKind.WRITTEN: frozenset({Status.ADMISSIBLE, Status.NOT_ADMISSIBLE, Status.PASSED, Status.FAILED}),
    ExamKind.ORAL: frozenset({Status.PASSED, Status.FAILED}),
}

# A result concludes one stage, so it is recorded for those convened to that stage.
RESULTS_FROM: dict[ExamResult, frozenset[Status]] = {r: frozenset(CONVENED[r.stage]) for r in ExamResult}

# Admissible, and those whose oral result is recorded.
REACHED_ORALS = frozenset({Status.ADMISSIBLE, Status.PASSED, Status.FAILED})

# No exam any more for these: a convocation not yet released is withheld.
CANNOT_SIT = frozenset(
    {
        Status.CANCELLED,
        Status.WITHDRAWN,
        Status.REPLACED,
        Status.REJECTED,
        Status.NON_CONFORMING,
    }
)
