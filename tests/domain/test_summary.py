"""The pages' summary of a dossier says what the aggregate's own rules say, at the same instant,
and carries nothing the pages do not show."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from domain.decisions import Decision, DecisionKind
from domain.documents import CentreDocumentKind
from domain.dossier import Dossier
from domain.space import Action
from domain.status import Status
from domain.summary import DossierSummary, summarise
from tests.domain.test_dossier import (
    DEADLINE,
    DECIDED,
    GRACE_END,
    REG_DEADLINE,
    REGISTERED,
    REOPEN,
    SECOND,
    VALIDATED,
    WRITTEN_AT,
    admissible,
    admitted,
    cancelled,
    centre_document,
    complete,
    in_instruction,
    incomplete,
    preregistered,
    rejected,
    upload,
    validated,
    withdrawn,
)


def with_uploads() -> Dossier:
    dossier = preregistered()
    dossier.record_upload(upload("diplome"), REGISTERED)
    dossier.record_upload(upload("diplome"), REGISTERED + SECOND)
    dossier.record_upload(upload("formulaire"), REGISTERED + 2 * SECOND)
    return dossier


def incomplete_answered() -> Dossier:
    dossier = incomplete(["diplome", "formulaire"])
    dossier.record_upload(upload("diplome", at=DECIDED + SECOND), DECIDED + SECOND)
    return dossier


def convened() -> Dossier:
    """Admitted, with a convocation released and an access map still waiting for its instant."""
    dossier = admitted()
    at = DECIDED + timedelta(days=2)
    dossier.deposit(centre_document(CentreDocumentKind.CONVOCATION, "ecrit"), at)
    dossier.deposit(centre_document(CentreDocumentKind.LETTER, title="Courrier d'information"), at)
    dossier.run_due(WRITTEN_AT - timedelta(days=15))
    return dossier


STATES: dict[str, Callable[[], Dossier]] = {
    "preregistered": preregistered,
    "with_uploads": with_uploads,
    "validated": validated,
    "in_instruction": in_instruction,
    "incomplete": incomplete,
    "incomplete_answered": incomplete_answered,
    "complete": complete,
    "admitted": admitted,
    "convened": convened,
    "admissible": admissible,
    "rejected": rejected,
    "cancelled": cancelled,
    "withdrawn": withdrawn,
}
INSTANTS = {
    "registered": REGISTERED + timedelta(hours=1),
    "validated": VALIDATED + timedelta(minutes=5),
    "deadline": DEADLINE,
    "after_deadline": DEADLINE + SECOND,
    "reopened": REOPEN + timedelta(hours=1),
    "grace_end": GRACE_END,
    "decided": DECIDED + timedelta(hours=1),
    "regularisation_deadline": REG_DEADLINE,
    "after_regularisation": REG_DEADLINE + SECOND,
    "before_written": WRITTEN_AT - timedelta(days=1),
}


def aggregate_answers(dossier: Dossier, now: datetime) -> dict:
    """What the pages used to read from the whole dossier."""
    return {
        "actions": dossier.allowed_actions(now),
        "window": dossier.uploads_window(now),
        "deadlines": dossier.next_deadlines(now),
        "counts": dossier.category_counts(),
        "slots": [(s.code, s.label, s.count, s.max_files, s.asked, s.can_upload) for s in dossier.upload_slots(now)],
        "files": {
            c.code: [(u.ref, u.filename, u.size, u.uploaded_at) for u in dossier.uploads if u.category == c.code]
            for c in dossier.route.documents
        },
        "documents": [(d.ref, d.kind, d.title, d.released_at) for d in dossier.released_documents()],
        "timeline": [(t.at, t.text) for t in dossier.timeline],
        "status": (dossier.status, dossier.status.label),
        "validation": (dossier.validation_deadline, dossier.validated_at),
        "identity": (
            dossier.dossier_number,
            dossier.campaign.grade,
            dossier.campaign.organiser,
            dossier.campaign.time_zone,
            dossier.route.label,
            dossier.registration.speciality,
            dossier.registration.registered_at,
            dossier.registration.replaces,
            dossier.registration.candidate,
        ),
    }


def summary_answers(summary: DossierSummary) -> dict:
    return {
        "actions": summary.actions,
        "window": summary.window,
        "deadlines": [(d.label, d.at) for d in summary.deadlines],
        "counts": {c.code: c.count for c in summary.categories},
        "slots": [(c.code, c.label, c.count, c.max_files, c.asked, c.can_upload) for c in summary.categories],
        "files": {c.code: [(f.ref, f.filename, f.size, f.uploaded_at) for f in c.files] for c in summary.categories},
        "documents": [(d.ref, d.kind, d.title, d.released_at) for d in summary.documents],
        "timeline": [(t.at, t.text) for t in summary.timeline],
        "status": (summary.status, summary.status_label),
        "validation": (summary.validation_deadline, summary.validated_at),
        "identity": (
            summary.dossier_number,
            summary.grade,
            summary.organiser,
            summary.time_zone,
            summary.route_label,
            summary.speciality,
            summary.registered_at,
            summary.replaces,
            summary.candidate,
        ),
    }


@pytest.mark.parametrize("instant", INSTANTS.values(), ids=INSTANTS.keys())
@pytest.mark.parametrize("build", STATES.values(), ids=STATES.keys())
def test_the_summary_agrees_with_the_dossier_at_every_instant(build, instant):
    dossier = build()
    summary = summarise(dossier, instant)
    assert summary.at == instant
    assert summary_answers(summary) == aggregate_answers(dossier, instant)


def test_the_summary_shows_the_regularisation_only_while_the_dossier_is_incomplete():
    dossier = incomplete(["diplome"])
    summary = summarise(dossier, DECIDED + timedelta(hours=1))
    assert summary.regularisation is not None
    assert dossier.regularisation is not None
    assert summary.regularisation.deadline == dossier.regularisation.deadline == REG_DEADLINE
    assert summary.regularisation.note == dossier.regularisation.note
    assert [c.code for c in summary.categories if c.asked] == ["diplome"]

    dossier.decide(Decision(DecisionKind.COMPLETE, by="agent.concours"), DECIDED + timedelta(days=1))
    assert summarise(dossier, DECIDED + timedelta(days=1)).regularisation is None


def test_the_summary_lists_released_documents_only_newest_first():
    dossier = convened()
    summary = summarise(dossier, WRITTEN_AT - timedelta(days=1))
    assert [d.title for d in summary.documents] == [d.title for d in dossier.released_documents()]
    assert len(summary.documents) == 2
    assert all(summary.has_document(d.ref) for d in dossier.released_documents())
    assert not summary.has_document("doc-unknown")


def test_the_summary_knows_the_candidates_own_uploads():
    dossier = with_uploads()
    summary = summarise(dossier, REGISTERED + timedelta(hours=1))
    assert all(summary.has_upload(u.ref) for u in dossier.uploads)
    assert not summary.has_upload("upload-of-someone-else")


def test_the_summary_leaves_out_what_no_page_shows():
    dossier = with_uploads()
    assert dossier.outbox  # mails queued, waiting for the workflow to send them
    fields = {f.name for f in dataclasses.fields(DossierSummary)}
    assert not fields & {"outbox", "campaign", "registration", "uploads", "reminders_done", "mails_queued"}
    listed = summarise(dossier, REGISTERED).categories[0].files[0]  # uploads are listed...
    assert not hasattr(listed, "sha256")  # ...without their checksum or stored type


def test_a_cancelled_dossier_offers_no_action_but_its_history():
    summary = summarise(cancelled(), DEADLINE + timedelta(days=1))
    assert summary.status is Status.CANCELLED
    assert summary.actions == []
    assert not summary.window.open
    assert summary.timeline[-1].code == "annulation"
    assert Action.VALIDATE not in summary.actions
