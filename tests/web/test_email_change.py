"""A candidate whose mail server refuses their address (550) sees it in their space, corrects
the address through a link sent to the new one, and gets the refused mail there, once.

Real parts: the app, the dev server's workflow and worker, the SMTP sink refusing one mailbox,
SQLite (the account row)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from devtools.mail_sink import MailSink
from infra.database import Account, Database
from infra.staff_accounts import StaffRole
from tests.backoffice import cheap_staff_hashing, staff  # noqa: F401  (fixtures)
from tests.conftest import eventually
from tests.web.conftest import NewCandidate
from tests.web.pages import client, submit, text_of
from web import email_change
from web.access_log import redact
from web.email_change import EmailChange

LINK = re.compile(r"http://testserver(/adresse-electronique/confirmer\?jeton=\S+)")
NOTICE = "Nous n'avons pas pu vous envoyer la confirmation de votre préinscription à l'adresse"


@pytest.fixture
def refused_mailboxes(mail_sink: MailSink) -> Iterator[set[str]]:
    """Addresses the sink answers 550 (unknown mailbox) for, during one test."""
    added: set[str] = set()
    yield added
    mail_sink.refused_recipients.difference_update(added)


def unknown(mail_sink: MailSink, refused: set[str]) -> str:
    address = f"inconnu-{uuid.uuid4().hex[:8]}@example.fr"
    refused.add(address)
    mail_sink.refused_recipients.add(address)
    return address


async def account_email(database: Database, number: str) -> str:
    async with database.sessions() as session:
        account = await session.get(Account, number)
    assert account is not None
    return account.email


async def test_a_refused_address_is_corrected_by_a_confirmed_link_and_the_mail_goes_again(
    app: FastAPI,
    database: Database,
    mail_sink: MailSink,
    new_candidate: NewCandidate,
    refused_mailboxes: set[str],
    staff,  # noqa: F811
) -> None:
    bad = unknown(mail_sink, refused_mailboxes)
    me = await new_candidate(email=bad)

    async def notice_shown() -> str | None:
        page = text_of(await me.http.get("/espace"))
        return page if NOTICE in page else None

    page = await eventually(notice_shown)
    assert f"{NOTICE} {bad}" in page and "550 5.1.1" in page
    instructor = await staff(StaffRole.INSTRUCTOR)
    staff_page = text_of(await instructor.get(f"/staff/dossiers/{me.number}"))
    assert "Courriels non remis" in staff_page and bad in staff_page
    assert "En attente d'une adresse corrigée" in staff_page

    # The address is checked by pre-registration's own rule (email-validator); nothing is sent.
    wrong = await submit(me.http, "/espace/adresse-electronique", {"new_email": "foo<a@example.fr>"})
    assert wrong.status_code == 422 and "Adresse e-mail invalide : indiquez une seule adresse" in text_of(wrong)
    assert mail_sink.to("a@example.fr") == []

    good = f"corrigee-{uuid.uuid4().hex[:8]}@example.fr"
    asked = await submit(me.http, "/espace/adresse-electronique", {"new_email": good})
    assert asked.status_code == 200, asked.text
    assert f"Un lien de confirmation vient d'être envoyé à l'adresse {good}" in text_of(asked)
    # Nothing changes before the link is followed.
    assert await account_email(database, me.number) == bad
    assert NOTICE in text_of(await me.http.get("/espace"))

    [link_mail] = mail_sink.to(good)
    assert link_mail.subject.startswith("Confirmez votre nouvelle adresse électronique")
    match = LINK.search(link_mail.body)
    assert match, link_mail.body
    link = match.group(1)

    # Opened from the mailbox, in a browser without the candidate's session.
    browser = client(app)
    async with browser:
        shown = await browser.get(link)
        assert shown.status_code == 200 and good in text_of(shown)
        assert await account_email(database, me.number) == bad  # a GET (a link scanner) changes nothing
        confirmed = await submit(
            browser, "/adresse-electronique/confirmer", {"jeton": link.split("jeton=")[1]}, page=link
        )
        assert confirmed.status_code == 200, confirmed.text
        assert f"Votre adresse électronique est désormais {good}" in text_of(confirmed)
        assert await account_email(database, me.number) == good

        resent = await eventually(
            lambda: [m for m in mail_sink.to(good) if m.subject.startswith("Votre préinscription")]
        )
        assert len(resent) == 1 and me.number in resent[0].subject

        # The same link again: already done, nothing sent twice; the link shows as spent on GET.
        again = await submit(
            browser, "/adresse-electronique/confirmer", {"jeton": link.split("jeton=")[1]}, page="/connexion"
        )
        assert again.status_code == 200
        assert (await browser.get(link)).status_code == 410

    assert NOTICE not in text_of(await me.http.get("/espace"))
    assert "Renvoyé à " + good in text_of(await instructor.get(f"/staff/dossiers/{me.number}"))
    mine = await me.http.get("/espace/mes-donnees")
    assert good in text_of(mine)
    assert [m.subject.split(" —")[0] for m in mail_sink.to(good)].count("Votre préinscription") == 1
    assert mail_sink.to(bad) == []


async def test_a_new_address_the_server_refuses_too_is_said_at_once(
    mail_sink: MailSink, new_candidate: NewCandidate, refused_mailboxes: set[str]
) -> None:
    me = await new_candidate()
    also_bad = unknown(mail_sink, refused_mailboxes)

    asked = await submit(me.http, "/espace/adresse-electronique", {"new_email": also_bad})

    assert asked.status_code == 422
    assert f"Le serveur de messagerie de l'adresse {also_bad} l'a refusée (550" in text_of(asked)


async def test_an_altered_link_changes_nothing(
    app: FastAPI, database: Database, mail_sink: MailSink, new_candidate: NewCandidate
) -> None:
    me = await new_candidate()
    good = f"autre-{uuid.uuid4().hex[:8]}@example.fr"
    await submit(me.http, "/espace/adresse-electronique", {"new_email": good})
    [link_mail] = await eventually(lambda: mail_sink.to(good))
    token = LINK.search(link_mail.body).group(1).split("jeton=")[1]  # type: ignore[union-attr]

    async with client(app) as browser:
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        refused = await submit(browser, "/adresse-electronique/confirmer", {"jeton": forged}, page="/connexion")
        assert refused.status_code == 410 and "n'est plus valable" in text_of(refused)
    assert await account_email(database, me.number) == me.email.lower()


def test_the_links_token_stays_out_of_the_access_log(settings) -> None:
    link = email_change.confirm_link(settings, email_change.issue(settings, EmailChange("N-1", "a@x.fr", "b@x.fr")))
    token = link.split("jeton=")[1]

    assert token not in redact(f'127.0.0.1:5000 - "GET {link.split("testserver")[1]} HTTP/1.1" 200')
