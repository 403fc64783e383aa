"""A later order moves exam dates or venues: each open dossier follows (`Dossier.amend_exams`).

Same scenario as test_dossier.py: written exam on Thursday 10 December 2026 at 9:00 (Paris), oral
on Monday 15 February 2027; convocations are released 15 days before their exam.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from activities.mail import render
from domain.campaign import ExamAmendment, ExamDate, ExamKind
from domain.decisions import DecisionKind
from domain.documents import CentreDocument, CentreDocumentKind
from domain.dossier import Dossier
from domain.mail import MailTemplate
from tests.domain.test_dossier import (
    ORAL_AT,
    WRITTEN_AT,
    admissible,
    admitted,
    centre_document,
    in_instruction,
    paris,
    preregistered,
    templates,
)
from tests.factories import exam_of

LEAD = timedelta(days=15)
DEPOSITED = paris(2026, 11, 10, 11, 0)
AMENDED = paris(2026, 11, 12, 10, 0)  # before the old release instant (25 November 9:00)
NEW_WRITTEN_AT = paris(2027, 1, 7, 9, 0)
WRITTEN_LABEL = "Épreuve écrite d'admissibilité"
ORAL_LABEL = "Épreuve orale d'admission"
WRITTEN_VENUE = "Parc des expositions, Vannes"
ORAL_VENUE = "CDG 56, Vannes"


def exams(
    written_at: datetime = WRITTEN_AT,
    written_venue: str = WRITTEN_VENUE,
    oral_at: datetime = ORAL_AT,
    oral_venue: str = ORAL_VENUE,
    written_label: str = WRITTEN_LABEL,
) -> list[ExamDate]:
    """The campaign's exams as the back office sends them (fresh objects, as a signal brings)."""
    return [
        ExamDate("ecrit", written_label, ExamKind.WRITTEN, written_at, written_venue),
        ExamDate("oral", ORAL_LABEL, ExamKind.ORAL, oral_at, oral_venue),
    ]


def convened() -> tuple[Dossier, CentreDocument]:
    dossier = admitted()
    convocation = centre_document(CentreDocumentKind.CONVOCATION, "ecrit", title="Convocation à l'épreuve écrite")
    dossier.deposit(convocation, DEPOSITED)
    assert convocation.release_at == WRITTEN_AT - LEAD
    return dossier, convocation


def test_a_pending_convocation_follows_its_exam_and_the_candidate_is_told_once():
    dossier, convocation = convened()
    mails = len(dossier.outbox)
    changed = dossier.amend_exams(exams(written_at=NEW_WRITTEN_AT), AMENDED)
    assert changed == ["ecrit"]
    assert exam_of(dossier.campaign, "ecrit").starts_at == NEW_WRITTEN_AT
    assert exam_of(dossier.campaign, "oral").starts_at == ORAL_AT
    assert convocation.release_at == NEW_WRITTEN_AT - LEAD  # 23 December 2026, 9:00
    assert convocation.released_at is None
    assert dossier.next_due() == NEW_WRITTEN_AT - LEAD
    # The old release instant comes and goes: nothing is released early.
    dossier.run_due(WRITTEN_AT - LEAD)
    assert dossier.released_documents() == []
    assert dossier.next_deadlines(AMENDED) == [
        ("Mise à disposition : Convocation à l'épreuve écrite", NEW_WRITTEN_AT - LEAD),
        (f"{WRITTEN_LABEL} — {WRITTEN_VENUE}", NEW_WRITTEN_AT),
    ]
    assert templates(dossier)[mails:] == [MailTemplate.EXAMS_MOVED]
    mail = dossier.outbox[-1]
    assert "jeudi 7 janvier 2027 à 9h00" in mail.context["exams"]
    assert "au lieu du jeudi 10 décembre 2026 à 9h00" in mail.context["exams"]
    assert "mise à disposition le mercredi 23 décembre 2026 à 9h00" in mail.context["convocations"]
    assert dossier.timeline[-1].code == "epreuve_modifiee"
    assert dossier.timeline[-1].text == (
        f"Épreuve modifiée : {WRITTEN_LABEL}, le jeudi 7 janvier 2027 à 9h00 — {WRITTEN_VENUE}."
    )

    # The campaign-wide message arrives again (a retried activity): nothing changes.
    notes = len(dossier.timeline)
    assert dossier.amend_exams(exams(written_at=NEW_WRITTEN_AT), AMENDED + timedelta(minutes=5)) == []
    assert len(dossier.outbox) == mails + 1 and len(dossier.timeline) == notes
    assert convocation.release_at == NEW_WRITTEN_AT - LEAD


def test_the_same_amendment_twice_is_applied_once_and_an_older_one_arriving_late_is_ignored():
    dossier, convocation = convened()
    first = ExamAmendment("c", exams(written_at=NEW_WRITTEN_AT), amended_at=paris(2026, 11, 11, 9, 0))
    later = ExamAmendment(
        "c", exams(written_at=NEW_WRITTEN_AT + timedelta(days=1)), amended_at=paris(2026, 11, 11, 10, 0)
    )
    mails = len(dossier.outbox)
    dossier.amend_exams(later.exams, AMENDED, later.amended_at)
    assert dossier.amend_exams(later.exams, AMENDED, later.amended_at) == []
    assert dossier.amend_exams(first.exams, AMENDED, first.amended_at) == []  # crossed on the way
    assert exam_of(dossier.campaign, "ecrit").starts_at == NEW_WRITTEN_AT + timedelta(days=1)
    assert convocation.release_at == NEW_WRITTEN_AT + timedelta(days=1) - LEAD
    assert templates(dossier)[mails:] == [MailTemplate.EXAMS_MOVED]
    assert dossier.campaign.exams_amended_at == later.amended_at


def test_an_exam_brought_forward_releases_its_convocation_at_once():
    dossier, convocation = convened()
    sooner = AMENDED + timedelta(days=10)  # 22 November: 15 days before is already past
    dossier.amend_exams(exams(written_at=sooner), AMENDED)
    assert convocation.release_at == AMENDED
    assert convocation.released_at == AMENDED
    assert templates(dossier)[-2:] == [MailTemplate.EXAMS_MOVED, MailTemplate.DOCUMENT]


def test_a_new_venue_alone_is_mailed_and_a_new_label_alone_is_only_noted():
    dossier, convocation = convened()
    mails = len(dossier.outbox)
    dossier.amend_exams(exams(written_label="Épreuves écrites"), AMENDED)
    assert exam_of(dossier.campaign, "ecrit").label == "Épreuves écrites"
    assert len(dossier.outbox) == mails
    assert dossier.timeline[-1].code == "epreuve_modifiee"
    assert convocation.release_at == WRITTEN_AT - LEAD
    dossier.amend_exams(exams(written_label="Épreuves écrites", written_venue="Espace Montcalm, Vannes"), AMENDED)
    assert templates(dossier)[mails:] == [MailTemplate.EXAMS_MOVED]
    assert "Espace Montcalm, Vannes" in dossier.outbox[-1].context["exams"]
    assert f"au lieu du jeudi 10 décembre 2026 à 9h00, {WRITTEN_VENUE}" in dossier.outbox[-1].context["exams"]


@pytest.mark.parametrize("build", [preregistered, in_instruction], ids=["preinscrit", "en_instruction"])
def test_a_candidate_not_yet_admitted_follows_the_new_dates_without_a_mail(build):
    dossier = build()
    mails = len(dossier.outbox)
    dossier.amend_exams(exams(written_at=NEW_WRITTEN_AT, oral_venue="Hôtel de ville, Lorient"), AMENDED)
    assert exam_of(dossier.campaign, "ecrit").starts_at == NEW_WRITTEN_AT
    assert exam_of(dossier.campaign, "oral").venue == "Hôtel de ville, Lorient"
    assert len(dossier.outbox) == mails
    assert [e.code for e in dossier.timeline[-2:]] == ["epreuve_modifiee", "epreuve_modifiee"]


def test_an_admitted_candidate_without_convocation_yet_is_told_of_the_written_exam_only():
    dossier = admitted(DecisionKind.ADMIT_UNDER_RESERVE)
    mails = len(dossier.outbox)
    dossier.amend_exams(exams(oral_at=ORAL_AT + timedelta(days=2)), AMENDED)
    assert len(dossier.outbox) == mails  # the oral is for admissible candidates
    dossier.amend_exams(exams(written_at=NEW_WRITTEN_AT, oral_at=ORAL_AT + timedelta(days=2)), AMENDED)
    assert templates(dossier)[mails:] == [MailTemplate.EXAMS_MOVED]
    assert dossier.outbox[-1].context["convocations"] == ""
    assert dossier.next_deadlines(AMENDED) == [(f"{WRITTEN_LABEL} — {WRITTEN_VENUE}", NEW_WRITTEN_AT)]


def test_an_admissible_candidate_is_told_when_the_oral_moves():
    dossier = admissible()
    at = paris(2027, 1, 20, 10, 0)
    mails = len(dossier.outbox)
    dossier.amend_exams(exams(oral_at=ORAL_AT + timedelta(days=7)), at)
    assert templates(dossier)[mails:] == [MailTemplate.EXAMS_MOVED]
    assert dossier.next_deadlines(at) == [(f"{ORAL_LABEL} — {ORAL_VENUE}", ORAL_AT + timedelta(days=7))]


def test_a_released_convocation_keeps_its_release_and_the_mail_says_the_new_date_prevails():
    dossier, convocation = convened()
    dossier.run_due(WRITTEN_AT - LEAD)
    assert convocation.released_at == WRITTEN_AT - LEAD
    at = WRITTEN_AT - timedelta(days=10)
    dossier.amend_exams(exams(written_at=NEW_WRITTEN_AT), at)
    assert convocation.released_at == WRITTEN_AT - LEAD
    mail = dossier.outbox[-1]
    assert mail.template is MailTemplate.EXAMS_MOVED
    assert mail.context["released"] and mail.context["convocations"] == ""


def test_a_withheld_convocation_stays_withheld_and_its_candidate_is_not_mailed():
    dossier, convocation = convened()
    dossier.withdraw(AMENDED)
    dossier.run_due(AMENDED)
    assert convocation.withheld
    mails = len(dossier.outbox)
    dossier.amend_exams(exams(written_at=NEW_WRITTEN_AT), AMENDED + timedelta(hours=1))
    assert convocation.release_at == WRITTEN_AT - LEAD and convocation.released_at is None
    assert len(dossier.outbox) == mails
    assert dossier.next_due() is None


def test_an_unknown_exam_code_is_ignored_and_an_exam_keeps_its_kind():
    dossier, convocation = convened()
    mails = len(dossier.outbox)
    odd = [
        ExamDate("ecrit", WRITTEN_LABEL, ExamKind.ORAL, WRITTEN_AT, WRITTEN_VENUE),  # kind is not amended
        ExamDate("pratique", "Épreuve pratique", ExamKind.WRITTEN, NEW_WRITTEN_AT, "Lorient"),
    ]
    assert dossier.amend_exams(odd, AMENDED) == []
    assert [e.code for e in dossier.campaign.exams] == ["ecrit", "oral"]
    assert exam_of(dossier.campaign, "ecrit").kind is ExamKind.WRITTEN
    assert len(dossier.outbox) == mails
    assert convocation.release_at == WRITTEN_AT - LEAD


def test_a_past_exam_corrected_afterwards_is_not_mailed_about():
    dossier, _ = convened()
    dossier.run_due(WRITTEN_AT - LEAD)
    after = WRITTEN_AT + timedelta(days=3)
    mails = len(dossier.outbox)
    dossier.amend_exams(exams(written_at=WRITTEN_AT + timedelta(hours=1)), after)
    assert len(dossier.outbox) == mails
    assert dossier.timeline[-1].code == "epreuve_modifiee"


def test_the_mail_reads_in_french_with_its_subject_first():
    dossier, _ = convened()
    dossier.amend_exams(exams(written_at=NEW_WRITTEN_AT, written_venue="Espace Montcalm, Vannes"), AMENDED)
    subject, body = render(dossier.outbox[-1], "https://concours.example.fr")
    assert subject == "Modification de la date ou du lieu d'une épreuve — Rédacteur territorial"
    assert "Épreuve écrite d'admissibilité : le jeudi 7 janvier 2027 à 9h00, Espace Montcalm, Vannes" in body
    assert "(au lieu du jeudi 10 décembre 2026 à 9h00, Parc des expositions, Vannes)" in body
    assert "Convocation à l'épreuve écrite : mise à disposition le mercredi 23 décembre 2026 à 9h00" in body
    assert "ancienne date" not in body
    assert "n° de dossier 56-2026-00042" in body


def test_an_amendment_digest_depends_on_the_exams_only():
    a = ExamAmendment("red2027", exams(written_at=NEW_WRITTEN_AT), amended_at=AMENDED)
    b = ExamAmendment(
        "red2027", list(reversed(exams(written_at=NEW_WRITTEN_AT))), amended_at=AMENDED + timedelta(seconds=3)
    )
    c = ExamAmendment("red2027", exams(written_at=NEW_WRITTEN_AT + timedelta(minutes=30)), amended_at=AMENDED)
    assert a.digest() == b.digest() != c.digest()
    assert ExamAmendment("red2028", a.exams, AMENDED).digest() != a.digest()
