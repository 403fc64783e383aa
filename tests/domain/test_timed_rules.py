"""Timed rules are declared once (`domain.dossier.TIMED_RULES`): `next_due` and `run_due` agree.

For a few dossiers, as the workflow holds them after a message, the dossier's timeline is walked
timer by timer: just before `next_due()` nothing happens, at `next_due()` something does.
Same scenario as test_dossier.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from domain.accommodations import (
    CERTIFICATE_CATEGORY,
    AccommodationDecision,
    AccommodationKind,
    AccommodationOutcome,
    AccommodationRequest,
)
from domain.decisions import DecisionKind
from domain.documents import CentreDocumentKind
from domain.dossier import AFTER_DEADLINE, TIMED_RULES, Dossier
from domain.status import Status
from tests.domain.test_dossier import (
    DEADLINE,
    DECIDED,
    REGISTERED,
    VALIDATED,
    WRITTEN_RESULTS,
    admissible,
    admitted,
    centre_document,
    decided,
    incomplete,
    paris,
    preregistered,
    upload,
    validated,
)

DEPOSITED = paris(2026, 11, 10, 11, 0)
RULED_OUT = paris(2026, 11, 12, 10, 0)


def _extended() -> tuple[Dossier, datetime]:
    dossier = preregistered()
    dossier.run_due(DEADLINE - timedelta(days=1))
    at = DEADLINE - timedelta(hours=12)
    dossier.extend_deadline(DEADLINE + timedelta(days=14), at)
    return dossier, at


def _convened() -> tuple[Dossier, datetime]:
    dossier = admitted()
    dossier.deposit(centre_document(CentreDocumentKind.CONVOCATION, "ecrit"), DEPOSITED)
    dossier.deposit(centre_document(CentreDocumentKind.ACCESS_MAP, "ecrit"), DEPOSITED)
    return dossier, DEPOSITED


def _convened_to_the_oral() -> tuple[Dossier, datetime]:
    dossier = admissible()
    dossier.deposit(centre_document(CentreDocumentKind.CONVOCATION, "oral"), WRITTEN_RESULTS)
    return dossier, WRITTEN_RESULTS


def _reserve_ends_in_rejection() -> tuple[Dossier, datetime]:
    dossier = admitted(DecisionKind.ADMIT_UNDER_RESERVE)
    dossier.deposit(centre_document(CentreDocumentKind.CONVOCATION, "ecrit"), DEPOSITED)
    decided(DecisionKind.REJECT, dossier, at=RULED_OUT, reasons="Diplôme non reconnu")
    return dossier, RULED_OUT


def _accommodated_after_the_print() -> tuple[Dossier, datetime]:
    """Convened, then granted accommodations its convocation does not print: printed again at
    its release instant (the workflow then hands the new version over)."""
    dossier = admitted()
    certificate = upload(CERTIFICATE_CATEGORY)
    dossier.request_accommodations(
        AccommodationRequest([AccommodationKind.EXTRA_TIME], certificates=[certificate]), REGISTERED
    )
    convocation = centre_document(CentreDocumentKind.CONVOCATION, "ecrit")
    convocation.accommodations = []
    dossier.deposit(convocation, DEPOSITED)
    dossier.reprints_convocations = True  # as the workflow's patch sets it at the decision
    dossier.decide_accommodations(AccommodationDecision(AccommodationOutcome.GRANTED), RULED_OUT)
    return dossier, RULED_OUT


# Each builder returns the dossier and the instant of its last message: the workflow runs what
# is due at that instant before it asks for the next due instant.
STATES: dict[str, Callable[[], tuple[Dossier, datetime]]] = {
    "preregistered": lambda: (preregistered(), REGISTERED),
    "preregistered_late": lambda: (preregistered(at=DEADLINE - timedelta(days=3)), DEADLINE - timedelta(days=3)),
    "deadline_extended": _extended,
    "validated": lambda: (validated(), VALIDATED),
    "incomplete": lambda: (incomplete(), DECIDED),
    "incomplete_due_within_the_reminder": lambda: (incomplete(deadline=DECIDED + timedelta(days=1)), DECIDED),
    "convened": _convened,
    "convened_to_the_oral": _convened_to_the_oral,
    "reserve_ends_in_rejection": _reserve_ends_in_rejection,
    "accommodated_after_the_print": _accommodated_after_the_print,
}


def _reached(dossier: Dossier, now: datetime) -> set[str]:
    return {rule.name for rule in TIMED_RULES if (due := rule.due(dossier)) is not None and due.reached(now)}


def _walk(dossier: Dossier, now: datetime) -> set[str]:
    """Run the dossier's timers to the end as the workflow would; the rules that applied."""
    applied = _reached(dossier, now)
    dossier.run_due(now)
    for _ in range(50):
        due = dossier.next_due()
        if due is None:
            return applied
        assert due > now, "a rule still due right after run_due"
        before = copy.deepcopy(dossier)
        dossier.run_due(due - AFTER_DEADLINE)
        assert dossier == before, f"run_due did something before next_due ({due})"
        applied |= _reached(dossier, due)
        dossier.run_due(due)
        assert dossier != before, f"run_due did nothing at next_due ({due})"
        now = due
    raise AssertionError("the dossier never runs out of timers")


@pytest.mark.parametrize("state", list(STATES))
def test_run_due_acts_at_next_due_and_not_just_before(state):
    dossier, now = STATES[state]()
    _walk(dossier, now)


def test_the_walked_states_exercise_every_timed_rule():
    applied: set[str] = set()
    for build in STATES.values():
        applied |= _walk(*build())
    assert applied == {rule.name for rule in TIMED_RULES}


def test_a_deadline_that_still_counts_is_passed_one_microsecond_later_as_before():
    # The timer waits for the deadline plus AFTER_DEADLINE, but any instant after it cancels.
    dossier = preregistered()
    assert dossier.next_due() == DEADLINE - timedelta(days=7)
    dossier.run_due(DEADLINE)
    assert dossier.status is Status.AWAITING_DOSSIER
    assert dossier.next_due() == DEADLINE + AFTER_DEADLINE
    dossier.run_due(DEADLINE + timedelta(microseconds=1))
    assert dossier.status is Status.CANCELLED
    assert dossier.next_due() is None
