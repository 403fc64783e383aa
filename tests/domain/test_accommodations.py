"""Exam accommodations: who may ask until when, what staff may decide, what is printed.

Same scenario as `test_dossier`: validation deadline Thursday 29 October 2026 17:00 Paris; the
campaign may set its own date for accommodation requests.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.accommodations import (
    CERTIFICATE_CATEGORY,
    AccommodationDecision,
    AccommodationKind,
    AccommodationOutcome,
    AccommodationRequest,
)
from domain.dossier import Refusal
from domain.mail import MailTemplate
from tests.domain.test_dossier import (
    DEADLINE,
    DECIDED,
    REGISTERED,
    SECOND,
    admitted,
    cancelled,
    in_instruction,
    paris,
    preregistered,
    templates,
    upload,
)

K = AccommodationKind
OUT = AccommodationOutcome


def certificate():
    return upload(CERTIFICATE_CATEGORY)


def asking(*kinds: AccommodationKind, details: str = "", certificates=None) -> AccommodationRequest:
    return AccommodationRequest(
        list(kinds), details=details, certificates=[certificate()] if certificates is None else certificates
    )


def refusal(action, *args) -> str:
    with pytest.raises(Refusal) as caught:
        action(*args)
    return caught.value.message


# A campaign's own date for requests, after the decisions of the scenario.
OWN_DEADLINE = paris(2026, 11, 20, 12, 0)


def requested(*kinds: AccommodationKind, details: str = ""):
    dossier = in_instruction(accommodation_deadline=OWN_DEADLINE)
    dossier.request_accommodations(asking(*kinds, details=details), DECIDED)
    return dossier


def test_a_request_at_pre_registration_is_recorded_noted_and_acknowledged():
    dossier = preregistered()
    assert dossier.may_request_accommodations(REGISTERED)
    dossier.request_accommodations(asking(K.EXTRA_TIME, K.SEPARATE_ROOM), REGISTERED)
    acc = dossier.accommodations
    assert acc is not None and acc.pending and acc.requested == [K.EXTRA_TIME, K.SEPARATE_ROOM]
    assert acc.certificates[0].category == CERTIFICATE_CATEGORY
    assert dossier.timeline[-1].code == "amenagements_demande"
    assert "tiers-temps" in dossier.timeline[-1].text
    assert templates(dossier)[-1] is MailTemplate.ACCOMMODATIONS_REQUESTED
    assert not dossier.may_request_accommodations(REGISTERED)


def test_requests_close_at_the_validation_deadline_by_default_judged_at_receipt():
    dossier = preregistered()
    late = asking(K.EXTRA_TIME)
    assert "dépassée" in refusal(dossier.request_accommodations, late, DEADLINE + SECOND)
    # Received on time, recorded a moment later: accepted (time of receipt decides).
    on_time = asking(K.EXTRA_TIME)
    on_time.received_at = DEADLINE
    dossier.request_accommodations(on_time, DEADLINE + SECOND)
    assert dossier.accommodations is not None


def test_the_campaign_may_set_its_own_date_for_requests():
    own = OWN_DEADLINE
    dossier = in_instruction(accommodation_deadline=own)
    assert dossier.may_request_accommodations(own)
    assert not dossier.may_request_accommodations(own + SECOND)
    message = refusal(dossier.request_accommodations, asking(K.SECRETARY), own + SECOND)
    assert "20 novembre 2026" in message
    dossier.request_accommodations(asking(K.SECRETARY), own)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (AccommodationRequest([], certificates=[]), "au moins un aménagement"),
        (asking(K.OTHER), "Précisez"),
        (asking(K.EXTRA_TIME, certificates=[]), "certificat d'un médecin agréé"),
        (asking(K.EXTRA_TIME, K.EXTRA_TIME), "qu'une fois"),
        (asking(K.EXTRA_TIME, certificates=[upload("diplome")]), "n'est pas un certificat"),
    ],
)
def test_an_incomplete_request_is_refused_with_its_reason(request_, expected):
    dossier = in_instruction(accommodation_deadline=OWN_DEADLINE)
    if not request_.kinds:
        request_.certificates = [certificate()]
    assert expected in refusal(dossier.request_accommodations, request_, DECIDED)
    assert dossier.accommodations is None


def test_one_request_per_dossier_and_none_on_a_closed_dossier():
    dossier = requested(K.EXTRA_TIME)
    assert "en cours d'examen" in refusal(dossier.request_accommodations, asking(K.SECRETARY), DECIDED)
    dossier.decide_accommodations(AccommodationDecision(OUT.GRANTED, by="agent"), DECIDED)
    assert "déjà reçu une réponse" in refusal(dossier.request_accommodations, asking(K.SECRETARY), DECIDED)
    assert "clos" in refusal(cancelled().request_accommodations, asking(K.EXTRA_TIME), REGISTERED)


def test_a_full_grant_grants_what_was_asked_and_mails_the_candidate():
    dossier = requested(K.OTHER, K.EXTRA_TIME, details="Table adaptée au fauteuil")
    dossier.decide_accommodations(AccommodationDecision(OUT.GRANTED, by="jdupont"), DECIDED + SECOND)
    acc = dossier.accommodations
    assert acc is not None and acc.outcome is OUT.GRANTED and acc.decided_by == "jdupont"
    # Fixed order, "other" with the candidate's words.
    assert dossier.granted_accommodations() == [
        "Temps de composition majoré (tiers-temps)",
        "Autre aménagement : Table adaptée au fauteuil",
    ]
    mail = dossier.outbox[-1]
    assert mail.template is MailTemplate.ACCOMMODATIONS_DECIDED
    assert mail.context["outcome"] == "Aménagements accordés"
    assert "tiers-temps" in mail.context["granted"] and not mail.context["refused"]
    assert dossier.timeline[-1].code == "amenagements_decision"


def test_a_partial_grant_needs_a_reason_and_a_strict_subset_of_the_request():
    dossier = requested(K.EXTRA_TIME, K.SECRETARY)
    partly = AccommodationDecision(OUT.PARTLY_GRANTED, granted=[K.EXTRA_TIME], by="agent")
    assert "motif" in refusal(dossier.decide_accommodations, partly, DECIDED)
    partly.reason = "Le certificat ne justifie pas l'assistance d'un secrétaire."
    everything = AccommodationDecision(OUT.PARTLY_GRANTED, [K.EXTRA_TIME, K.SECRETARY], reason="x")
    assert "choisissez « Accorder »" in refusal(dossier.decide_accommodations, everything, DECIDED)
    not_asked = AccommodationDecision(OUT.PARTLY_GRANTED, [K.ENLARGED_PAPERS], reason="x")
    assert "non demandé" in refusal(dossier.decide_accommodations, not_asked, DECIDED)
    nothing = AccommodationDecision(OUT.PARTLY_GRANTED, [], reason="x")
    assert "Cochez" in refusal(dossier.decide_accommodations, nothing, DECIDED)
    dossier.decide_accommodations(partly, DECIDED)
    assert dossier.granted_accommodations() == ["Temps de composition majoré (tiers-temps)"]
    assert "secrétaire" in dossier.outbox[-1].context["refused"]
    assert "Motif" in dossier.timeline[-1].text


def test_a_refusal_needs_a_reason_and_prints_nothing():
    dossier = requested(K.SEPARATE_ROOM)
    assert "motif" in refusal(dossier.decide_accommodations, AccommodationDecision(OUT.REFUSED), DECIDED)
    dossier.decide_accommodations(AccommodationDecision(OUT.REFUSED, reason="Certificat non agréé"), DECIDED)
    assert dossier.granted_accommodations() == []
    assert dossier.outbox[-1].context["reason"] == "Certificat non agréé"


def test_a_decision_without_request_or_a_second_one_is_refused():
    assert "aucune demande" in refusal(admitted().decide_accommodations, AccommodationDecision(OUT.GRANTED), DECIDED)
    dossier = requested(K.EXTRA_TIME)
    dossier.decide_accommodations(AccommodationDecision(OUT.GRANTED), DECIDED)
    assert "déjà été instruite" in refusal(dossier.decide_accommodations, AccommodationDecision(OUT.GRANTED), DECIDED)


def test_staff_may_still_decide_once_the_candidate_is_admitted():
    dossier = admitted()
    dossier.accommodations = None
    dossier.request_accommodations(asking(K.ENLARGED_PAPERS), REGISTERED + SECOND)
    dossier.decide_accommodations(AccommodationDecision(OUT.GRANTED), DECIDED + timedelta(days=2))
    assert dossier.granted_accommodations() == ["Sujets en caractères agrandis"]
