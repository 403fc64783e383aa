"""The mail activity when the worker dies during the SMTP exchange: a real SMTP server (aiosmtpd)
that takes the message and holds its answer, a worker process killed with SIGKILL while it waits,
then the activity run again as Temporal's retry would. What the candidate notices: a mail cut off
during DATA comes again (a second copy with the same Message-ID, and a warning for operators);
a mail whose 250 was recorded never comes twice; a refused one comes once, without a warning."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import ActivityEnvironment

from activities.mail import Mailer
from devtools.mail_sink import MailSink, start
from domain.mail import Mail, MailTemplate
from infra.database import MAIL_SENDING, MAIL_SENT, Database, SentMail
from infra.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port
from tests.factories import dossier_mail
from workflows import names

# The worker's part: the real activity in a process of its own, killed from outside.
CHILD = """
import asyncio, json, sys
from temporalio.testing import ActivityEnvironment
from activities.mail import Mailer
from domain.mail import Mail, MailTemplate
from infra.database import Database
from infra.settings import get_settings

async def main():
    fields = json.loads(sys.argv[1])
    fields["template"] = MailTemplate(fields["template"])
    mail = Mail(**fields)
    settings = get_settings()
    await ActivityEnvironment().run(Mailer(settings, Database(settings.database_url)).send_mail, mail)

asyncio.run(main())
"""


class HoldingServer(MailSink):
    """Keeps every message like the sink, but holds one answer (the 250 to DATA, or the 221 to
    QUIT) until the test releases it: the client is then stuck exactly there."""

    def __init__(self, hold: str) -> None:
        super().__init__()
        self.hold = hold  # "DATA", "QUIT" or "" (answer at once)
        self.reached = threading.Event()
        self.release = threading.Event()

    async def _held(self, command: str) -> None:
        if self.hold == command:
            self.reached.set()
            await asyncio.to_thread(self.release.wait, 120)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)  # the message is kept here
        await self._held("DATA")
        return reply

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await self._held("QUIT")
        return "221 Bye"


@pytest.fixture
def holding() -> Iterator[HoldingServer]:
    server = HoldingServer("")
    controller = start(server, port=free_port())
    yield server
    server.release.set()
    controller.stop()


def a_mail() -> Mail:
    number = f"KILL-{uuid.uuid4().hex[:6]}"
    return dossier_mail(number, MailTemplate.ADMITTED, "convocation@example.fr", "Admis(e) à concourir", reasons="")


def worker_sending(settings: Settings, mail: Mail) -> subprocess.Popen:
    env = {
        **os.environ,
        "INSCRIPTIONS_ENVIRONMENT": "test",
        "INSCRIPTIONS_DATA_DIR": str(settings.data_dir),
        "INSCRIPTIONS_DATABASE_URL": settings.database_url,
        "INSCRIPTIONS_SMTP_PORT": str(settings.smtp_port),
        "INSCRIPTIONS_PUBLIC_URL": settings.public_url,
    }
    fields = {"key": mail.key, "template": mail.template.value, "to": mail.to, "context": mail.context}
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(fields)], cwd=PROJECT_ROOT, env=env)


async def killed_when_held(server: HoldingServer, worker: subprocess.Popen) -> None:
    """SIGKILL the worker once the server holds its answer (the worker is waiting for it)."""
    try:
        reached = await asyncio.to_thread(server.reached.wait, 120)
        assert reached, "the worker never reached the held step"
        assert worker.poll() is None, "the worker ended on its own"
    finally:
        worker.kill()
        worker.wait()
        server.hold = ""
        server.release.set()


async def state_of(database: Database, key: str) -> str | None:
    async with database.sessions() as session:
        row = await session.get(SentMail, key)
        return row.state if row is not None else None


def retry_environment() -> tuple[ActivityEnvironment, MetricBuffer]:
    """An activity environment whose metrics are readable: the retry's counters."""
    buffer = MetricBuffer(1000)
    env = ActivityEnvironment()
    env.metric_meter = Runtime(telemetry=TelemetryConfig(metrics=buffer)).metric_meter
    return env, buffer


def counted(buffer: MetricBuffer, name: str) -> float:
    return sum(u.value for u in buffer.retrieve_updates() if u.metric.name == name)


async def test_a_worker_killed_before_the_answer_to_data_sends_the_mail_again_with_a_warning(
    settings: Settings, database: Database, holding: HoldingServer, caplog: pytest.LogCaptureFixture
) -> None:
    smtp = settings.model_copy(update={"smtp_port": holding.port})
    mail = a_mail()
    holding.hold = "DATA"
    worker = worker_sending(smtp, mail)
    await killed_when_held(holding, worker)
    # The server took the message; the worker died before reading its 250: only « sending ».
    assert len(holding.for_dossier(mail.context["dossier_number"])) == 1
    assert await state_of(database, mail.key) == MAIL_SENDING

    env, buffer = retry_environment()
    with caplog.at_level(logging.WARNING):
        await env.run(Mailer(smtp, database).send_mail, mail)

    copies = holding.for_dossier(mail.context["dossier_number"])
    assert len(copies) == 2  # the documented choice: a second copy rather than a lost notice
    assert copies[0].message_id == copies[1].message_id
    assert await state_of(database, mail.key) == MAIL_SENT
    warning = next(r.getMessage() for r in caplog.records if mail.key in r.getMessage())
    assert f"Mail {mail.key} sent again" in warning and copies[0].message_id in warning
    assert counted(buffer, names.METRIC_MAILS_SENT_AGAIN) == 1


async def test_a_worker_killed_after_the_250_was_recorded_never_sends_again(
    settings: Settings, database: Database, holding: HoldingServer, caplog: pytest.LogCaptureFixture
) -> None:
    smtp = settings.model_copy(update={"smtp_port": holding.port})
    mail = a_mail()
    holding.hold = "QUIT"  # the 250 to DATA went back; the worker dies waiting for QUIT's answer
    worker = worker_sending(smtp, mail)
    await killed_when_held(holding, worker)
    assert await state_of(database, mail.key) == MAIL_SENT

    env, buffer = retry_environment()
    with caplog.at_level(logging.WARNING):
        await env.run(Mailer(smtp, database).send_mail, mail)

    assert len(holding.for_dossier(mail.context["dossier_number"])) == 1
    assert not [r for r in caplog.records if mail.key in r.getMessage()]
    assert counted(buffer, names.METRIC_MAILS_SENT_AGAIN) == 0


async def test_a_mail_refused_at_data_leaves_no_mark_and_goes_once_without_a_warning(
    settings: Settings, database: Database, holding: HoldingServer, caplog: pytest.LogCaptureFixture
) -> None:
    smtp = settings.model_copy(update={"smtp_port": holding.port})
    mail = a_mail()
    holding.refusing = True  # 451 to DATA: the server says it did not take the message
    env, buffer = retry_environment()
    with pytest.raises(aiosmtplib.SMTPDataError):
        await env.run(Mailer(smtp, database).send_mail, mail)
    assert await state_of(database, mail.key) is None

    holding.refusing = False
    holding.messages.clear()
    with caplog.at_level(logging.WARNING):
        await env.run(Mailer(smtp, database).send_mail, mail)
    assert len(holding.for_dossier(mail.context["dossier_number"])) == 1
    assert await state_of(database, mail.key) == MAIL_SENT
    assert not [r for r in caplog.records if "sent again" in r.getMessage()]
    assert counted(buffer, names.METRIC_MAILS_SENT_AGAIN) == 0
