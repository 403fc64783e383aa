"""Mails refused for good: set aside without holding up the others, sent again to a new address.

The workflow sends the outbox in order and pops each mail once its activity ends; these tests
play that part by hand (`send`, `refuse`) with fixed instants.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.dossier import Dossier, Refusal
from domain.mail import Mail, MailTemplate
from domain.summary import summarise
from tests.domain.test_dossier import EMAIL, REGISTERED, VALIDATED, preregistered

REPLY = "550 5.1.1 <maelle.legoff@example.fr>: Recipient address rejected"
NEW_EMAIL = "maelle.legoff@exemple.bzh"
LATER = REGISTERED + timedelta(minutes=5)


def send(dossier: Dossier) -> Mail:
    """The server took the first queued mail."""
    return dossier.outbox.pop(0)


def refuse(dossier: Dossier, now=LATER) -> Mail:
    """The server refused the first queued mail for good; the workflow sets it aside."""
    mail = dossier.outbox[0]
    dossier.set_mail_aside(mail, REPLY, now)
    dossier.outbox.pop(0)
    return mail


def test_a_refused_mail_is_recorded_with_when_and_the_servers_reply() -> None:
    dossier = preregistered()
    mail = refuse(dossier)

    [entry] = dossier.set_aside
    assert entry.mail.key == mail.key and entry.mail.template is MailTemplate.PREREGISTERED
    assert (entry.at, entry.reply, entry.mail.to) == (LATER, REPLY, EMAIL)
    assert entry.pending
    assert dossier.timeline[-1].code == "courriel_non_remis"
    assert EMAIL in dossier.timeline[-1].text


def test_the_following_mails_still_go_after_a_refusal() -> None:
    dossier = preregistered()
    refuse(dossier)
    dossier.validate(True, VALIDATED)

    assert [m.template for m in dossier.outbox] == [MailTemplate.VALIDATED]
    assert send(dossier).template is MailTemplate.VALIDATED
    assert dossier.outbox == []  # nothing left to hold an archived dossier open


def test_the_candidates_pages_show_each_pending_refused_mail_in_french() -> None:
    dossier = preregistered()
    refuse(dossier)

    [shown] = summarise(dossier, LATER).set_aside
    assert shown.label == "la confirmation de votre préinscription"
    assert (shown.to, shown.at, shown.reply) == (EMAIL, LATER, REPLY)


def test_a_confirmed_new_address_sends_the_set_aside_mails_again_with_their_keys() -> None:
    dossier = preregistered()
    refused = refuse(dossier)

    assert dossier.change_email(NEW_EMAIL, LATER) is True

    assert dossier.registration.candidate.email == NEW_EMAIL
    [again] = dossier.outbox
    # Same key: it was never accepted by a server, and the activity sends a key at most once.
    assert (again.key, again.template, again.to) == (refused.key, refused.template, NEW_EMAIL)
    assert dossier.set_aside[0].resent_to == NEW_EMAIL and not dossier.set_aside[0].pending
    assert summarise(dossier, LATER).set_aside == []
    assert dossier.timeline[-1].code == "changement_courriel"


def test_following_the_link_twice_sends_nothing_twice() -> None:
    dossier = preregistered()
    refuse(dossier)
    dossier.change_email(NEW_EMAIL, LATER)
    send(dossier)

    assert dossier.change_email(NEW_EMAIL.upper(), LATER) is False
    assert dossier.outbox == []


def test_mails_still_queued_go_to_the_new_address_and_the_one_in_flight_keeps_its_own() -> None:
    dossier = preregistered()
    dossier.validate(True, VALIDATED)
    in_flight = dossier.outbox[0]

    dossier.change_email(NEW_EMAIL, VALIDATED)

    assert in_flight.to == EMAIL  # what the activity was given is not rewritten
    assert [m.to for m in dossier.outbox] == [NEW_EMAIL, NEW_EMAIL]


def test_a_mail_refused_at_an_address_already_replaced_goes_again_at_once() -> None:
    dossier = preregistered()
    in_flight = dossier.outbox[0]
    dossier.change_email(NEW_EMAIL, LATER)  # confirmed while the first mail was being sent
    dossier.set_mail_aside(in_flight, REPLY, LATER)
    dossier.outbox.pop(0)

    assert [(m.key, m.to) for m in dossier.outbox] == [(in_flight.key, NEW_EMAIL)]
    assert dossier.pending_set_aside == []


def test_an_archived_dossier_keeps_its_address() -> None:
    dossier = preregistered()
    dossier.archive(LATER)

    with pytest.raises(Refusal, match="archivé"):
        dossier.check_change_email(NEW_EMAIL, LATER)
    with pytest.raises(Refusal):
        dossier.change_email(NEW_EMAIL, LATER)
    assert dossier.registration.candidate.email == EMAIL
