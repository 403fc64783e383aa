"""Email: every message the dossier queues goes out here, once per event key as far as SMTP allows.

The workflow retries this activity until the SMTP server takes the message, so mail waits out an
outage. A permanent refusal (an SMTP 5xx for the recipient or the message) is different: no retry
would change it, so it ends the activity with a non-retryable `MailRefused` error carrying the
server's reply, and the workflow sets that mail aside (`Dossier.set_mail_aside`).

SMTP cannot be exactly-once: the server takes the message when it reads the end of DATA, and
says so with a 250 that a worker killed at that instant never reads. So the uncertain stretch is
kept as short as the protocol allows and marked in `sent_mails` (key = the event's key):

1. the key is looked up: « sent » → nothing to do (a retry after the server took it);
2. connection, EHLO, STARTTLS, login, MAIL FROM, RCPT TO (a refused recipient ends here:
   nothing was marked);
3. just before DATA, the key is marked « sending » (if that write fails, DATA is not sent);
4. DATA; at the server's 250 the key is marked « sent », before QUIT. A reply refusing the
   message (4xx, 5xx) removes the mark: the server said it did not take it.

A worker killed between 3 and 4 (the DATA exchange and one database write) leaves « sending »
without « sent »: the server may or may not hold the message. The retry then SENDS IT AGAIN, with
a warning naming the key and the `inscriptions_mails_sent_again` counter: a second copy carrying
the same Message-ID (derived from the key; many mail systems drop it) is a nuisance, a lost
convocation or decision notice is a harm to the candidate. Killed anywhere else, the retry does
the right thing: before 3 it sends (nothing left), after 4 it does not. If the « sent » write
itself fails, the activity still completes (its completion in the history is what stops a
resend) and says so in the log.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import Table, delete, insert, select, update
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.mail import Mail
from infra.clock import now
from infra.database import MAIL_SENDING, MAIL_SENT, Database, SentMail
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


_SENT: Table = SentMail.__table__  # type: ignore[assignment]  # a declarative class's is a Table


class MarkNotWritten(Exception):
    """The database did not take the « sending » mark: DATA is not sent, the activity is retried."""


class Mailer:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database

    @activity.defn(name=names.SEND_MAIL)
    async def send_mail(self, mail: Mail) -> None:
        # Core statements on the table, not ORM objects: one mail per dossier of a bulk action.
        async with self.database.sessions() as session:
            marked = await session.scalar(select(_SENT.c.state).where(_SENT.c.key == mail.key))
        if marked == MAIL_SENT:
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
        clock: dict[str, float] = {}
        created: list[bool] = []  # whether this attempt wrote the « sending » mark

        async def mark_sending() -> None:
            # Before DATA: once the server may hold the message, a retry must know it.
            try:
                async with self.database.sessions() as session:
                    if await session.scalar(select(_SENT.c.key).where(_SENT.c.key == mail.key)) is None:
                        await session.execute(
                            insert(_SENT).values(
                                key=mail.key,
                                recipient=mail.to,
                                subject=subject,
                                message_id=msg["Message-ID"],
                                state=MAIL_SENDING,
                            )
                        )
                        await session.commit()
                        created.append(True)
            except Exception as exc:
                # Not an SMTP trouble (a database error can be an OSError): said as what it is.
                raise MarkNotWritten(
                    f"mail {mail.key} not sent: the « sending » mark could not be written ({exc})"
                ) from exc
            clock["data"] = time.monotonic()

        async def mark_sent() -> None:
            clock["accepted"] = time.monotonic()
            try:
                async with self.database.sessions() as session:
                    await session.execute(
                        update(_SENT).where(_SENT.c.key == mail.key).values(state=MAIL_SENT, sent_at=now())
                    )
                    await session.commit()
            except Exception as exc:
                # The server took the mail: failing now would make Temporal send it again. The
                # activity completes, which is what prevents a resend; the record is for operators.
                activity.logger.error("Mail %s was sent but could not be recorded in sent_mails (%s)", mail.key, exc)
            clock["recorded"] = time.monotonic()

        try:
            await deliver(s, msg, before_data=mark_sending, accepted=mark_sent)
        except SMTP_ERRORS as exc:
            meter.create_counter(names.METRIC_MAIL_FAILURES, "SMTP attempts that failed").add(1)
            if isinstance(exc, aiosmtplib.SMTPResponseException) and created:
                # The server answered DATA with a refusal: it holds nothing of this attempt.
                await self._unmark(mail.key)
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
        if marked == MAIL_SENDING:
            meter.create_counter(
                names.METRIC_MAILS_SENT_AGAIN, "Mails sent again after an attempt cut off during DATA"
            ).add(1, {"template": mail.template.value})
            activity.logger.warning(
                "Mail %s sent again: an earlier attempt stopped during DATA, before the SMTP server's answer "
                "was recorded (worker stopped or connection lost), so the server may already have taken it. "
                "The candidate may get two copies with the same Message-ID %s. Nothing to do for this mail; "
                "if this happens often, find out why workers stop or lose the SMTP server %s:%s.",
                mail.key,
                msg["Message-ID"],
                s.smtp_host,
                s.smtp_port,
            )
        # From the first attempt's scheduling: how long the candidate waited for this mail.
        waited = datetime.now(UTC) - activity.info().scheduled_time
        meter.create_histogram_timedelta(names.METRIC_MAIL_DELAY, "Queued to sent").record(waited)
        # The key names the dossier; the address stays out of the logs (personal data). The two
        # durations are the uncertain stretch (a kill there means a second copy): the DATA
        # exchange, then the « sent » write.
        activity.logger.info(
            "Mail %s (%s) sent; uncertain for %.1f ms (DATA %.1f ms, record %.1f ms)",
            mail.key,
            mail.template.value,
            (clock["recorded"] - clock["data"]) * 1000,
            (clock["accepted"] - clock["data"]) * 1000,
            (clock["recorded"] - clock["accepted"]) * 1000,
        )

    async def _unmark(self, key: str) -> None:
        try:
            async with self.database.sessions() as session:
                await session.execute(delete(SentMail).where(SentMail.key == key, SentMail.state == MAIL_SENDING))
                await session.commit()
        except Exception as exc:
            # Left « sending », the retry sends it again with a warning: one needless line.
            activity.logger.warning("Mail %s: « sending » mark not removed after a refusal (%s)", key, exc)
