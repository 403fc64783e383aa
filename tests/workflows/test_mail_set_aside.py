"""A mailbox the SMTP server refuses for good (550) holds up nothing: on the real dev server with
the real SMTP sink, the refused mail is set aside after one try, the following mails go, an
archived dossier finishes, and a confirmed new address gets the set-aside mail once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from temporalio.client import Client

from devtools.mail_sink import MailSink
from domain.mail import MailTemplate
from infra.database import Database, SentMail
from infra.settings import Settings
from tests.conftest import eventually
from tests.factories import campaign as make_campaign
from tests.workflows.conftest import registration
from tests.workflows.steps import mails_settled, record_history, view
from workflows.client import WorkflowClient
from workflows.dossier import ChangeEmail, DossierWorkflow, Validate


@pytest.fixture
def unknown_mailbox(mail_sink: MailSink) -> Iterator[str]:
    """An address the sink answers 550 (unknown mailbox) for, during one test."""
    address = f"inconnu-{uuid.uuid4().hex[:8]}@example.fr"
    mail_sink.refused_recipients.add(address)
    yield address
    mail_sink.refused_recipients.discard(address)


async def test_a_refused_mail_is_set_aside_and_an_archived_dossier_finishes(
    client: Client, settings: Settings, worker, mail_sink: MailSink, unknown_mailbox: str
) -> None:
    gateway = WorkflowClient(client, settings.task_queue)
    reg = registration(make_campaign(deadline_in=timedelta(days=10)), datetime.now(UTC), email=unknown_mailbox)
    await gateway.start_dossier(reg)
    handle = client.get_workflow_handle_for(DossierWorkflow.run, reg.dossier_number)

    dossier = await mails_settled(handle)  # before the fix: retried forever, never settled
    [entry] = dossier.set_aside
    assert entry.mail.template is MailTemplate.PREREGISTERED
    assert entry.reply.startswith("550 5.1.1") and unknown_mailbox in entry.reply
    assert mail_sink.refused.count(unknown_mailbox) == 1  # one try: a 5xx is not retried

    # The next mail is tried in its turn (and set aside too: the address is still unknown).
    await gateway.update(reg.dossier_number, DossierWorkflow.validate, Validate(True))
    dossier = await mails_settled(handle)
    assert [e.mail.template for e in dossier.set_aside] == [MailTemplate.PREREGISTERED, MailTemplate.VALIDATED]

    await gateway.signal(reg.dossier_number, DossierWorkflow.archive)
    outcome = await handle.result()  # before the fix: waited for its outbox forever
    assert outcome.dossier_number == reg.dossier_number
    assert mail_sink.for_dossier(reg.dossier_number) == []


async def test_a_confirmed_new_address_receives_the_set_aside_mail_once_then_the_next_ones(
    client: Client,
    settings: Settings,
    worker,
    database: Database,
    mail_sink: MailSink,
    unknown_mailbox: str,
) -> None:
    gateway = WorkflowClient(client, settings.task_queue)
    reg = registration(make_campaign(deadline_in=timedelta(days=10)), datetime.now(UTC), email=unknown_mailbox)
    number = reg.dossier_number
    await gateway.start_dossier(reg)
    handle = client.get_workflow_handle(number)
    refused_key = (await eventually(lambda: _set_aside(handle))).mail.key

    new_address = f"corrigee-{uuid.uuid4().hex[:8]}@example.fr"
    await gateway.update(number, DossierWorkflow.change_email, ChangeEmail(new_address))
    [received] = await eventually(lambda: mail_sink.to(new_address))
    assert received.subject.startswith("Votre préinscription")
    # Following the confirmation link again changes nothing and sends nothing again.
    await gateway.update(number, DossierWorkflow.change_email, ChangeEmail(new_address))

    await gateway.update(number, DossierWorkflow.validate, Validate(True))
    dossier = await mails_settled(handle)
    assert [m.subject.split(" —")[0] for m in mail_sink.to(new_address)] == [
        "Votre préinscription",
        "Demande d'inscription validée",
    ]
    assert dossier.registration.candidate.email == new_address
    assert [(e.mail.key, e.resent_to) for e in dossier.set_aside] == [(refused_key, new_address)]
    assert mail_sink.to(unknown_mailbox) == []
    async with database.sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(SentMail).where(SentMail.key == refused_key))
    assert rows == 1

    await gateway.signal(number, DossierWorkflow.archive)
    await handle.result()
    await record_history(handle, "mail_set_aside")


async def _set_aside(handle):
    dossier = await view(handle)
    return dossier.set_aside[0] if dossier.set_aside else None
