"""Staff decisions on a dossier under instruction, the status each one may follow, and the
single regularisation request an INCOMPLETE decision opens."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.status import Status


class DecisionKind(StrEnum):
    COMPLETE = "complet"
    INCOMPLETE = "incomplet"
    REJECT = "rejete"
    NON_CONFORMING = "non_conforme"
    ADMIT = "admis"
    ADMIT_UNDER_RESERVE = "admis_sous_reserve"

    @property
    def label(self) -> str:
        return DECISION_LABELS[self]

    @property
    def allowed_from(self) -> frozenset[Status]:
        """The statuses this decision may be taken from."""
        return DECISIONS_FROM[self]


@dataclass
class Decision:
    kind: DecisionKind
    by: str  # the staff member, for the record
    reasons: str = ""  # rejection reasons, or a note for the regularisation request
    missing: list[str] = field(default_factory=list)  # categories, for INCOMPLETE
    deadline: datetime | None = None  # the regularisation's deadline, for INCOMPLETE


@dataclass
class Regularisation:
    """The single request for missing documents that staff may send during instruction."""

    requested_at: datetime
    missing: list[str]
    deadline: datetime
    note: str = ""
    reminded: bool = False
    expired: bool = False


DECISION_LABELS: dict[DecisionKind, str] = {
    DecisionKind.COMPLETE: "Dossier complet",
    DecisionKind.INCOMPLETE: "Dossier incomplet",
    DecisionKind.REJECT: "Dossier rejeté",
    DecisionKind.NON_CONFORMING: "Dossier non conforme",
    DecisionKind.ADMIT: "Admis(e) à concourir",
    DecisionKind.ADMIT_UNDER_RESERVE: "Admis(e) à concourir sous réserve",
}

_INSTRUCTED = frozenset({Status.IN_INSTRUCTION, Status.INCOMPLETE, Status.COMPLETE})
DECISIONS_FROM: dict[DecisionKind, frozenset[Status]] = {
    DecisionKind.COMPLETE: frozenset({Status.IN_INSTRUCTION, Status.INCOMPLETE}),
    DecisionKind.INCOMPLETE: frozenset({Status.IN_INSTRUCTION}),
    # Conditions may still be checked up to appointment: a reserve can end in a rejection.
    DecisionKind.REJECT: _INSTRUCTED | {Status.ADMITTED_UNDER_RESERVE},
    DecisionKind.NON_CONFORMING: _INSTRUCTED | {Status.ADMITTED_UNDER_RESERVE},
    DecisionKind.ADMIT: frozenset({Status.COMPLETE, Status.ADMITTED_UNDER_RESERVE}),
    DecisionKind.ADMIT_UNDER_RESERVE: _INSTRUCTED,
}
