"""Time of receipt decides: an action bound to a deadline is judged at the instant the web
received it, however late its dossier gets to it; what closes at a deadline waits for the
actions still on their way; a stamp too old or from the future is refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from domain.decisions import Decision, DecisionKind
from domain.documents import UploadedDocument
from domain.dossier import AFTER_DEADLINE, CLOCK_TOLERANCE, Dossier
from domain.status import Status
from tests.domain.test_dossier import (
    DEADLINE,
    GRACE_END,
    REG_DEADLINE,
    REGISTERED,
    SECOND,
    VALIDATED,
    in_instruction,
    refused,
    registration,
    upload,
)

DELAY = timedelta(minutes=5)
LATE = "est dépassée : votre demande d'inscription ne peut plus être validée."


def open_dossier(**kwargs) -> Dossier:
    """A dossier as the workflow opens it since the receipt-time patch."""
    reg = registration(receipt_delay=DELAY, **kwargs)
    dossier = Dossier.open(reg, REGISTERED)
    dossier.receipt_grace = reg.campaign.receipt_delay
    return dossier


def stamped(received_at: datetime) -> UploadedDocument:
    """An upload as the web records it: received (and stamped) at `received_at`."""
    return replace(upload(at=received_at), received_at=received_at)


def test_a_validation_received_one_second_before_the_deadline_counts_when_it_arrives_minutes_later():
    dossier = open_dossier()
    dossier.run_due(DEADLINE + timedelta(minutes=3))  # the workflow's clock is past the deadline
    assert dossier.status is Status.AWAITING_DOSSIER  # not cancelled: on-time clicks may be on their way

    dossier.validate(True, DEADLINE + timedelta(minutes=3), received_at=DEADLINE - SECOND)

    assert dossier.status is Status.TRANSFERRING
    assert dossier.validated_at == DEADLINE - SECOND  # the candidate's click, not the backlog's end
    dossier.run_due(DEADLINE + DELAY + timedelta(minutes=1))
    assert dossier.status is Status.TRANSFERRING  # never cancelled with an accepted validation


def test_a_validation_received_one_second_after_the_deadline_is_refused_however_early_it_arrives():
    dossier = open_dossier()
    message = refused(dossier.validate, True, DEADLINE + SECOND, DEADLINE + SECOND)
    assert LATE in message
    assert dossier.status is Status.AWAITING_DOSSIER and dossier.validated_at is None


def test_the_deadline_itself_still_counts():
    dossier = open_dossier()
    dossier.validate(True, DEADLINE + timedelta(seconds=40), received_at=DEADLINE)
    assert dossier.status is Status.TRANSFERRING


def test_a_stamp_older_than_the_receipt_delay_is_refused_as_stale():
    dossier = open_dossier()
    now = DEADLINE - timedelta(days=1)
    message = refused(dossier.validate, True, now, now - DELAY - SECOND)
    assert message == "Cette demande est trop ancienne pour être prise en compte : renvoyez-la depuis votre espace."
    dossier.validate(True, now, received_at=now - DELAY)  # the bound itself is accepted
    assert dossier.status is Status.TRANSFERRING


def test_a_stamp_from_the_future_is_refused():
    dossier = open_dossier()
    now = DEADLINE - timedelta(days=1)
    message = refused(dossier.validate, True, now, now + CLOCK_TOLERANCE + SECOND)
    assert message == "L'heure de réception de cette demande n'est pas valable : renvoyez-la depuis votre espace."
    dossier.validate(True, now, received_at=now + CLOCK_TOLERANCE)  # a web clock slightly ahead
    assert dossier.status is Status.TRANSFERRING


def test_a_dossier_not_validated_is_cancelled_only_once_no_on_time_validation_can_arrive():
    dossier = open_dossier()
    assert dossier.next_due() == DEADLINE - timedelta(days=7)  # the first reminder
    dossier.run_due(DEADLINE)
    assert dossier.next_due() == DEADLINE + DELAY + AFTER_DEADLINE
    dossier.run_due(DEADLINE + DELAY)
    assert dossier.status is Status.AWAITING_DOSSIER
    # Meanwhile the candidate is told the deadline has passed: validation is no longer offered.
    assert "valider" not in dossier.allowed_actions(DEADLINE + SECOND)
    dossier.run_due(DEADLINE + DELAY + AFTER_DEADLINE)
    assert dossier.status is Status.CANCELLED


def test_a_dossier_opened_before_the_receipt_time_patch_is_cancelled_at_its_deadline():
    dossier = Dossier.open(registration(receipt_delay=DELAY), REGISTERED)  # receipt_grace left at zero
    dossier.run_due(DEADLINE + AFTER_DEADLINE)
    assert dossier.status is Status.CANCELLED


def test_an_upload_received_before_the_end_of_the_grace_period_counts_when_it_arrives_later():
    dossier = open_dossier()
    dossier.validate(True, VALIDATED)
    dossier.run_due(GRACE_END + timedelta(minutes=2))
    assert not dossier.grace_end_noted  # the closing note waits for uploads on their way

    dossier.record_upload(stamped(GRACE_END - SECOND), GRACE_END + timedelta(minutes=2))

    assert len(dossier.uploads) == 1
    late = stamped(GRACE_END + SECOND)
    assert "close" in refused(dossier.record_upload, late, GRACE_END + timedelta(minutes=2))
    dossier.run_due(GRACE_END + DELAY + AFTER_DEADLINE)
    assert dossier.grace_end_noted


def test_an_upload_received_before_the_regularisation_deadline_counts_when_it_arrives_later():
    dossier = in_instruction(receipt_delay=DELAY)
    dossier.receipt_grace = DELAY
    dossier.decide(
        Decision(DecisionKind.INCOMPLETE, by="instructeur", missing=["diplome"], deadline=REG_DEADLINE),
        GRACE_END + timedelta(days=2),
    )
    arrives = REG_DEADLINE + timedelta(minutes=4)
    dossier.run_due(arrives)
    assert dossier.regularisation is not None and not dossier.regularisation.expired

    dossier.record_upload(stamped(REG_DEADLINE - SECOND), arrives)

    assert [u.category for u in dossier.uploads] == ["diplome"]
    assert "close" in refused(dossier.record_upload, stamped(REG_DEADLINE + SECOND), arrives)
