"""What the pages offer comes from the dossier: the staff's decisions and results, the
candidate's upload slots. Each offer agrees with the check the workflow runs on the message.
Same scenario as test_dossier.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from domain.decisions import Decision, DecisionKind
from domain.dossier import Dossier, Refusal
from domain.exams import ExamResult
from domain.status import Status
from tests.domain.test_dossier import (
    _STATUS_BUILDERS,
    DECIDED,
    GRACE_END,
    REG_DEADLINE,
    REGISTERED,
    REOPEN,
    SECOND,
    VALIDATED,
    WRITTEN_RESULTS,
    decided,
    in_instruction,
    incomplete,
    preregistered,
    upload,
    validated,
)

AT = WRITTEN_RESULTS + timedelta(days=1)


def _well_formed(kind: DecisionKind) -> Decision:
    return Decision(kind, by="agent", reasons="Motif", missing=["autre"], deadline=AT + timedelta(days=10))


# ----------------------------------------------------------------- staff decisions and results
@pytest.mark.parametrize("status", list(_STATUS_BUILDERS), ids=str)
def test_the_decisions_offered_are_those_a_well_formed_decision_passes(status):
    dossier = _STATUS_BUILDERS[status]()
    offered = dossier.available_decisions(AT)
    for kind in DecisionKind:
        try:
            dossier.check_decide(_well_formed(kind), AT)
            accepted = True
        except Refusal:
            accepted = False
        assert (kind in offered) is accepted, kind


def test_under_instruction_every_decision_but_a_full_admission_is_offered():
    assert in_instruction().available_decisions(DECIDED) == [
        DecisionKind.COMPLETE,
        DecisionKind.INCOMPLETE,
        DecisionKind.REJECT,
        DecisionKind.NON_CONFORMING,
        DecisionKind.ADMIT_UNDER_RESERVE,
    ]


def test_a_regularised_dossier_is_not_offered_a_second_request():
    assert DecisionKind.INCOMPLETE not in incomplete().available_decisions(DECIDED)


@pytest.mark.parametrize("status", list(_STATUS_BUILDERS), ids=str)
def test_the_results_offered_are_those_the_dossier_accepts(status):
    dossier = _STATUS_BUILDERS[status]()
    offered = dossier.available_results(AT)
    for result in ExamResult:
        try:
            dossier.check_result(result, AT)
            accepted = True
        except Refusal:
            accepted = False
        assert (result in offered) is accepted, result


def test_written_results_are_offered_to_admitted_candidates_and_oral_ones_to_admissible():
    assert _STATUS_BUILDERS[Status.ADMITTED]().available_results(AT) == [
        ExamResult.ADMISSIBLE,
        ExamResult.NOT_ADMISSIBLE,
    ]
    assert _STATUS_BUILDERS[Status.ADMISSIBLE]().available_results(AT) == [ExamResult.PASSED, ExamResult.FAILED]
    assert _STATUS_BUILDERS[Status.COMPLETE]().available_results(AT) == []


# ----------------------------------------------------------------- upload slots
def _answered_regularisation() -> Dossier:
    """The form was uploaded before validation (one file, the maximum), staff ask for it
    again (unsigned), and the candidate sends the signed one."""
    dossier = preregistered()
    dossier.record_upload(upload("formulaire", at=REGISTERED), REGISTERED)
    dossier.validate(True, VALIDATED)
    dossier.run_due(REOPEN)
    decided(
        DecisionKind.INCOMPLETE, dossier, missing=["formulaire"], deadline=REG_DEADLINE, reasons="Formulaire non signé"
    )
    at = DECIDED + timedelta(hours=1)
    dossier.record_upload(upload("formulaire", at=at), at)
    return dossier


def test_a_requested_category_answered_up_to_its_maximum_is_not_offered_again():
    # The page used to offer any requested category (2 files of 1 allowed, but « asked »),
    # while the dossier counts only the files sent since the request: the form led to a refusal.
    dossier = _answered_regularisation()
    at = DECIDED + timedelta(hours=2)
    slot = next(s for s in dossier.upload_slots(at) if s.code == "formulaire")
    assert (slot.count, slot.max_files, slot.asked) == (2, 1, True)
    assert not slot.can_upload
    assert slot.reason == "« Formulaire d'inscription daté et signé » : le nombre maximal de fichiers (1) est atteint."
    with pytest.raises(Refusal, match="nombre maximal"):
        dossier.check_upload("formulaire", at)


def test_a_requested_full_category_is_offered_until_answered():
    dossier = _answered_regularisation()
    dossier.uploads.pop()  # before the answer
    slot = next(s for s in dossier.upload_slots(DECIDED) if s.code == "formulaire")
    assert slot.asked and slot.can_upload and slot.reason == ""


def test_closed_uploads_give_the_window_s_reason_for_every_slot():
    dossier = validated()
    slots = dossier.upload_slots(VALIDATED)
    assert slots and all(not s.can_upload for s in slots)
    assert {s.reason for s in slots} == {dossier.uploads_window(VALIDATED).reason}


@pytest.mark.parametrize(
    ("build", "at"),
    [
        (preregistered, REGISTERED),
        (validated, VALIDATED),
        (validated, REOPEN),
        (validated, GRACE_END + SECOND),
        (incomplete, DECIDED),
        (incomplete, REG_DEADLINE + SECOND),
        (_answered_regularisation, DECIDED + timedelta(hours=2)),
    ],
)
def test_every_slot_agrees_with_check_upload(build, at: datetime):
    dossier = build()
    for slot in dossier.upload_slots(at):
        try:
            dossier.check_upload(slot.code, at)
            reason = ""
        except Refusal as refusal:
            reason = refusal.message
        assert (slot.can_upload, slot.reason) == (reason == "", reason)
