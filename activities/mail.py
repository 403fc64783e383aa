"""Email: every message the dossier queues goes out here, exactly once per event key.

The workflow retries this activity until the SMTP server takes the message, so mail waits out an
outage. A permanent refusal (an SMTP 5xx for the recipient or the message) is different: no retry
would change it, so it ends the activity with a non-retryable `MailRefused` error carrying the
server's reply, and the workflow sets that mail aside (`Dossier.set_mail_aside`).

Before sending, the key is looked up in `sent_mails`; after the server accepted it, the key is
recorded; if that record cannot be written, the activity still completes (its completion
in the history is what stops a resend). A worker that dies between those two steps could send
once more on retry; the Message-ID, derived from the key, lets mail systems drop that copy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.mail import Mail
from infra.database import Database, SentMail
from infra.settings import Settings
from infra.smtp import SMTP_ERRORS, compose, deliver, permanent_refusal
from workflows import names

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def render(mail: Mail, public_url: str) -> tuple[str, str]:
    """(subject, body): a template's first line is the subject, the rest the body."""
    text = TEMPLATES.get_template(f"{mail.template.value}.txt").render(**mail.context, space_url=public_url)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


class Mailer:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database

    @activity.defn(name=names.SEND_MAIL)
    async def send_mail(self, mail: Mail) -> None:
        async with self.database.sessions() as session:
            if await session.get(SentMail, mail.key) is not None:
                activity.logger.info("Mail %s was already sent; not sending again", mail.key)
                return
        subject, body = render(mail, self.settings.public_url)
        s = self.settings
        msg = compose(
            s,
            to=mail.to,
            subject=subject,
            body=body,
            key=mail.key,
            dossier=mail.context.get("dossier_number", ""),
        )
        meter = activity.metric_meter()
        try:
            await deliver(s, msg)
        except SMTP_ERRORS as exc:
            meter.create_counter(names.METRIC_MAIL_FAILURES, "SMTP attempts that failed").add(1)
            reply = permanent_refusal(exc)
            if reply is not None:
                activity.logger.warning("SMTP server refused mail %s to %s for good: %s", mail.key, mail.to, reply)
                raise ApplicationError(reply, type=names.MAIL_REFUSED, non_retryable=True) from None
            # Retried by the workflow's policy; say plainly what an operator should look at.
            activity.logger.warning(
                "SMTP server %s:%s did not take mail %s (%s); it will be retried",
                s.smtp_host,
                s.smtp_port,
                mail.key,
                exc,
            )
            raise
        meter.create_counter(names.METRIC_MAILS_SENT, "Mails the SMTP server took").add(
            1, {"template": mail.template.value}
        )
        # From the first attempt's scheduling: how long the candidate waited for this mail.
        waited = datetime.now(UTC) - activity.info().scheduled_time
        meter.create_histogram_timedelta(names.METRIC_MAIL_DELAY, "Queued to sent").record(waited)
        try:
            async with self.database.sessions() as session:
                session.add(SentMail(key=mail.key, recipient=mail.to, subject=subject, message_id=msg["Message-ID"]))
                await session.commit()
        except Exception as exc:
            # The server took the mail: failing now would make Temporal send it again. The
            # activity completes, which is what prevents a resend; the record is for operators.
            activity.logger.error("Mail %s was sent but could not be recorded in sent_mails (%s)", mail.key, exc)
            return
        # The key names the dossier; the address stays out of the logs (personal data).
        activity.logger.info("Mail %s (%s) sent", mail.key, mail.template.value)
