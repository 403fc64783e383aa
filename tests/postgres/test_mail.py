"""Sent-mail keys on PostgreSQL: a dossier's mail is recorded under its key once sent, and the
activity run again with that key (a retry, a restarted worker) does not send it again."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from activities.mail import Mailer
from devtools.mail_sink import MailSink
from domain.mail import Mail, MailTemplate
from infra.database import Database, SentMail
from infra.settings import Settings
from tests.conftest import eventually, mail_with_subject
from tests.web.pages import client, open_campaign, preregister


async def test_a_mail_sent_is_recorded_and_never_sent_again(
    pg_app: FastAPI, pg_database: Database, pg_settings: Settings, mail_sink: MailSink
) -> None:
    campaign = await open_campaign(pg_database)
    async with client(pg_app) as http:
        number, data = await preregister(http, campaign.id)
    first = await mail_with_subject(mail_sink, number, "")

    async def recorded() -> list[SentMail]:
        async with pg_database.sessions() as session:
            return list(await session.scalars(select(SentMail).where(SentMail.key.startswith(f"{number}/"))))

    rows = await eventually(recorded)
    assert [(r.recipient, r.subject) for r in rows] == [(data["email"].lower(), first.subject)]

    # The same mail again, as a retried activity would send it: nothing leaves.
    again = Mail(key=rows[0].key, template=MailTemplate.PREREGISTERED, to=data["email"], context={})
    await ActivityEnvironment().run(Mailer(pg_settings, pg_database).send_mail, again)
    assert len(mail_sink.for_dossier(number)) == 1
