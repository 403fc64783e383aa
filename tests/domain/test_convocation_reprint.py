"""A convocation printed before staff decided on accommodations is printed again: at once if the
candidate already has it (and they are mailed once), at its release instant otherwise, never
twice for the same decision. Same scenario as `test_dossier`: written exam on Thursday
10 December 2026 at 9:00, its convocation released 15 days before."""

from __future__ import annotations

from datetime import timedelta

from domain.accommodations import AccommodationDecision, AccommodationKind, AccommodationOutcome
from domain.documents import CentreDocument, CentreDocumentKind
from domain.dossier import Dossier
from domain.mail import MailTemplate
from tests.domain.test_accommodations import asking
from tests.domain.test_dossier import DECIDED, REGISTERED, SECOND, WRITTEN_AT, admitted, centre_document, templates

K = AccommodationKind
OUT = AccommodationOutcome
RELEASE = WRITTEN_AT - timedelta(days=15)
EXTRA_TIME = "Temps de composition majoré (tiers-temps)"
SEPARATE_ROOM = "Salle à part"


def asked() -> Dossier:
    """Admitted, with a request for extra time and a separate room (sent at pre-registration)."""
    dossier = admitted()
    dossier.request_accommodations(asking(K.EXTRA_TIME, K.SEPARATE_ROOM), REGISTERED + SECOND)
    # What the workflow sets from the "convocation-reprint" patch on at the decision.
    dossier.reprints_convocations = True
    return dossier


def convocation(dossier: Dossier, at, printed: list[str] | None, ref: str | None = None) -> CentreDocument:
    doc = centre_document(CentreDocumentKind.CONVOCATION, "ecrit", "Convocation — Épreuve écrite", ref=ref)
    doc.accommodations = printed
    dossier.deposit(doc, at)
    return doc


def partly_granted(dossier: Dossier, at) -> None:
    dossier.decide_accommodations(AccommodationDecision(OUT.PARTLY_GRANTED, [K.EXTRA_TIME], "Salle commune"), at)
    dossier.run_due(at)  # as the workflow does after every message


def reprinted(dossier: Dossier, ref: str, at) -> CentreDocument:
    """What the workflow does with the order: print (the activity), then hand the new version over."""
    [order] = dossier.pending_convocation_reprints
    new = centre_document(CentreDocumentKind.CONVOCATION, order.exam_code, "Convocation — Épreuve écrite", ref=ref)
    new.accommodations = list(order.accommodations)
    dossier.replace_convocation(order, new, at)
    return new


def test_a_released_convocation_is_printed_again_once_and_the_candidate_is_mailed_once():
    dossier = asked()
    old = convocation(dossier, RELEASE + timedelta(hours=1), printed=[])
    assert old.released_at is not None  # within 15 days of the exam: released at once
    decided = RELEASE + timedelta(days=1)
    partly_granted(dossier, decided)

    [order] = dossier.pending_convocation_reprints
    assert order.replaces == old.ref and order.accommodations == [EXTRA_TIME]
    assert order.version.startswith("amenagements-")
    dossier.run_due(decided + SECOND)  # anything waking the dossier again orders nothing more
    assert len(dossier.convocation_reprints) == 1
    next_due = dossier.next_due()
    assert next_due is None or next_due > decided  # nothing due at once: no busy loop

    new = reprinted(dossier, "convocation-v2", decided + 2 * SECOND)
    assert old.replaced_by == "convocation-v2"
    assert [d.ref for d in dossier.released_documents() if d.kind is CentreDocumentKind.CONVOCATION] == [new.ref]
    assert new.released_at == decided + 2 * SECOND
    assert templates(dossier).count(MailTemplate.CONVOCATION_UPDATED) == 1
    mail = dossier.outbox[-1]
    assert mail.template is MailTemplate.CONVOCATION_UPDATED and EXTRA_TIME in mail.context["accommodations"]
    assert dossier.timeline[-1].code == "convocation_mise_a_jour"

    # Never twice for the same decision, whatever wakes the dossier later.
    for later in (decided + timedelta(hours=1), RELEASE + timedelta(days=10)):
        dossier.run_due(later)
    assert dossier.pending_convocation_reprints == [] and len(dossier.convocation_reprints) == 1
    assert templates(dossier).count(MailTemplate.CONVOCATION_UPDATED) == 1


def test_a_convocation_not_released_yet_is_printed_again_at_its_release_not_before():
    dossier = asked()
    old = convocation(dossier, DECIDED + timedelta(days=2), printed=[])
    assert old.released_at is None and old.release_at == RELEASE
    partly_granted(dossier, DECIDED + timedelta(days=3))
    assert dossier.convocation_reprints == []  # nothing printed before the release date
    assert dossier.next_due() == RELEASE

    dossier.run_due(RELEASE)
    assert len(dossier.pending_convocation_reprints) == 1
    assert old.released_at is None  # the version out of date is never shown
    next_due = dossier.next_due()
    assert next_due is None or next_due > RELEASE
    before = templates(dossier)
    new = reprinted(dossier, "convocation-v2", RELEASE + SECOND)
    assert new.released_at == RELEASE + SECOND and old.released_at is None
    assert new.release_at == RELEASE
    # The release's usual mail, not an update: the candidate never had the old one.
    assert templates(dossier)[len(before) :] == [MailTemplate.DOCUMENT]
    assert [d.ref for d in dossier.released_documents()] == [new.ref]
    assert ("Mise à disposition : Convocation — Épreuve écrite", RELEASE) not in dossier.next_deadlines(RELEASE)


def test_nothing_is_printed_again_when_the_convocation_already_prints_the_decision():
    # A refusal prints nothing, like the convocation printed before it.
    refused = asked()
    convocation(refused, RELEASE + SECOND, printed=[])
    refused.decide_accommodations(AccommodationDecision(OUT.REFUSED, reason="Certificat trop ancien"), RELEASE)
    refused.run_due(RELEASE + timedelta(hours=1))
    assert refused.convocation_reprints == []
    # Decided first, printed after: the convocation prints it already.
    granted = asked()
    partly_granted(granted, DECIDED + timedelta(days=2))
    convocation(granted, DECIDED + timedelta(days=3), printed=[EXTRA_TIME])
    granted.run_due(RELEASE + SECOND)
    assert granted.convocation_reprints == [] and granted.documents[0].released_at == RELEASE + SECOND


def test_a_convocation_that_does_not_say_what_it_prints_is_judged_by_when_it_was_deposited():
    before = asked()
    convocation(before, DECIDED + timedelta(days=2), printed=None)
    partly_granted(before, DECIDED + timedelta(days=3))
    before.run_due(RELEASE)
    assert len(before.pending_convocation_reprints) == 1
    after = asked()
    partly_granted(after, DECIDED + timedelta(days=2))
    convocation(after, DECIDED + timedelta(days=3), printed=None)
    after.run_due(RELEASE)
    assert after.convocation_reprints == []


def test_dossiers_decided_before_the_patch_release_their_convocation_as_printed():
    dossier = asked()
    dossier.reprints_convocations = False
    old = convocation(dossier, DECIDED + timedelta(days=2), printed=[])
    partly_granted(dossier, DECIDED + timedelta(days=3))
    dossier.run_due(RELEASE)
    assert dossier.convocation_reprints == [] and old.released_at == RELEASE


def test_a_reprint_that_cannot_be_made_leaves_the_old_convocation_to_its_release():
    dossier = asked()
    old = convocation(dossier, DECIDED + timedelta(days=2), printed=[])
    partly_granted(dossier, DECIDED + timedelta(days=3))
    dossier.run_due(RELEASE)
    [order] = dossier.pending_convocation_reprints
    dossier.reprint_failed(order, "Convocation : le candidat n'est pas admis à concourir.", RELEASE + SECOND)
    dossier.run_due(RELEASE + 2 * SECOND)
    assert old.released_at == RELEASE + 2 * SECOND and len(dossier.convocation_reprints) == 1


def test_no_reprint_once_the_exam_has_passed():
    dossier = asked()
    old = convocation(dossier, RELEASE + SECOND, printed=[])
    after_exam = WRITTEN_AT + timedelta(hours=4)
    partly_granted(dossier, after_exam)
    [order] = dossier.convocation_reprints
    assert not order.pending and order.skipped == "épreuve passée"
    assert old.replaced_by is None and dossier.pending_convocation_reprints == []
