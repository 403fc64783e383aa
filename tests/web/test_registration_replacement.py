"""One registration per grade: a second pre-registration by the same person for the same grade
replaces the first dossier, which is closed with a notice to the candidate. And a
pre-registration whose workflow cannot start leaves nothing behind."""

from __future__ import annotations

import httpx
from temporalio.client import Client

from devtools.mail_sink import MailSink
from domain.registration import dossier_number
from domain.status import Status
from infra.database import Account, Database
from tests.conftest import eventually, mail_with_subject
from tests.factories import form
from tests.web.test_preregistration import open_campaign
from workflows.dossier import DossierWorkflow


async def test_a_second_preregistration_for_the_same_grade_replaces_the_first(
    http: httpx.AsyncClient, database: Database, client: Client, mail_sink: MailSink
) -> None:
    c = await open_campaign(database)
    first = await http.post("/api/preinscriptions", json=form(c.id, email="maelle@example.fr"))
    assert first.status_code == 201, first.text
    old = first.json()["dossier_number"]
    # Same person (name and birth date, whatever the case or accents typed), new email.
    second = await http.post(
        "/api/preinscriptions", json=form(c.id, last_name="LE GOFF", first_name="maelle", email="m.legoff@example.fr")
    )
    assert second.status_code == 201, second.text
    new = second.json()["dossier_number"]
    assert new != old

    old_handle = client.get_workflow_handle_for(DossierWorkflow.run, old)

    async def replaced():
        dossier = await old_handle.query(DossierWorkflow.view)
        return dossier if dossier.status is Status.REPLACED else None

    dossier = await eventually(replaced)
    assert dossier.replaced_by == new
    assert dossier.status.label == "Préinscription remplacée par une nouvelle préinscription"
    notice = await mail_with_subject(mail_sink, old, "Préinscription remplacée")
    assert new in notice.body and notice.to == ["maelle@example.fr"]
    welcome = await mail_with_subject(mail_sink, new, "Votre préinscription")
    assert old in welcome.body

    # The candidate can still read the old dossier, which takes no more messages.
    login = await http.post("/api/session", json={"dossier_number": old, "password": form(c.id)["password"]})
    assert login.status_code == 200, login.text
    refused = await http.post("/api/dossier/validation", json={"sworn_statement": True})
    assert refused.status_code == 409
    assert "ne peut plus être validé" in refused.json()["detail"]
    async with database.sessions() as session:
        account = await session.get(Account, old)
        assert account is not None and account.replaced_by == new


async def test_another_person_or_another_grade_does_not_replace(
    http: httpx.AsyncClient, database: Database, client: Client
) -> None:
    c = await open_campaign(database)
    other_grade = await open_campaign(database)
    first = (await http.post("/api/preinscriptions", json=form(c.id))).json()["dossier_number"]
    assert (await http.post("/api/preinscriptions", json=form(c.id, first_name="Yann"))).status_code == 201
    assert (await http.post("/api/preinscriptions", json=form(other_grade.id))).status_code == 201
    dossier = await client.get_workflow_handle_for(DossierWorkflow.run, first).query(DossierWorkflow.view)
    assert dossier.status is Status.AWAITING_DOSSIER


async def test_a_dossier_whose_workflow_cannot_start_leaves_no_account_and_the_candidate_can_retry(
    http: httpx.AsyncClient, database: Database, client: Client, settings, mail_sink: MailSink
) -> None:
    from dataclasses import replace

    from tests.workflows.conftest import registration
    from workflows.client import UNAVAILABLE, WorkflowClient

    c = await open_campaign(database)
    # The number the next pre-registration will take is already a workflow ID: its start fails.
    taken = dossier_number(c, 1)
    await WorkflowClient(client, "nobody-polls-this").start_dossier(replace(registration(c), dossier_number=taken))
    data = form(c.id)
    refused = await http.post("/api/preinscriptions", json=data)
    assert refused.status_code == 503
    assert refused.json()["detail"] == UNAVAILABLE
    async with database.sessions() as session:
        assert await session.get(Account, taken) is None  # no half-created dossier
    await client.get_workflow_handle(taken).terminate("test set-up")

    retried = await http.post("/api/preinscriptions", json=data)
    assert retried.status_code == 201, retried.text
    number = retried.json()["dossier_number"]
    assert number == dossier_number(c, 2)  # the failed number is skipped, never reused
    mail = await mail_with_subject(mail_sink, number, "Votre préinscription")
    assert mail.to == [data["email"]]
