"""One way out for every email: the message's headers and the SMTP connection, from settings.

Used by the mail activity (dossier events) and by the web's password-reset link; each caller
decides what a failure means (retry by Temporal, or a log line and "ask again").

The exchange is aiosmtplib's own (EHLO, STARTTLS, login, MAIL FROM, RCPT TO, DATA, QUIT), with
two hooks a caller can give for the one step that decides whether the message left: `before_data`
runs once the server took the envelope, just before DATA; `accepted` right after the server's
250 to DATA, before QUIT. The mail activity records its « sending » and « sent » marks there, so
that the stretch in which a stopped worker leaves a mail's fate unknown is that of DATA alone.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.utils import formatdate
from functools import cache
from typing import Any, Literal

import aiosmtplib
from aiosmtplib.typing import Default

from infra.settings import Settings

# What a refused or unreachable SMTP server raises.
SMTP_ERRORS = (aiosmtplib.SMTPException, OSError)


def message_id(key: str, sender: str) -> str:
    """A Message-ID derived from the event's key: a copy sent twice carries the same one."""
    domain = sender.rsplit("@", 1)[-1].strip(">") or "inscriptions.local"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def compose(settings: Settings, *, to: str, subject: str, body: str, key: str, dossier: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(key, settings.mail_from)
    msg["X-Dossier"] = dossier  # lets the dev mailbox and the tests group mail by dossier
    msg.set_content(body)
    return msg


Hook = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


class _Exchange(aiosmtplib.SMTP):
    """aiosmtplib's client, with the caller's hooks around DATA (which `send_message` calls once
    the envelope is accepted: a refused recipient never reaches `before_data`)."""

    def __init__(self, before_data: Hook, accepted: Hook, **options: Any) -> None:
        super().__init__(**options)
        self.before_data = before_data
        self.accepted = accepted
        self.taken = False  # the server answered 250 to DATA: the message is its now

    async def data(
        self, message: str | bytes, /, *, timeout: float | Literal[Default.token] | None = Default.token
    ) -> aiosmtplib.SMTPResponse:
        await self.before_data()
        response = await super().data(message, timeout=timeout)
        self.taken = True
        await self.accepted()
        return response


@cache
def local_hostname() -> str:
    """The name we give in EHLO. aiosmtplib looks it up (`socket.getfqdn`, in a thread) for every
    connection when not given: once per process is enough (one mail per connection)."""
    return socket.getfqdn()


async def deliver(
    settings: Settings, msg: EmailMessage, *, before_data: Hook = _nothing, accepted: Hook = _nothing
) -> None:
    """Hand `msg` to the SMTP server; raises one of SMTP_ERRORS when it did not take it.

    An error of `before_data` ends the exchange before DATA (nothing sent); `accepted` must not
    fail (the message already left). Once the server took the message, a failed QUIT is ignored.
    """
    smtp = _Exchange(
        before_data,
        accepted,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        local_hostname=local_hostname(),
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_starttls,
        timeout=30,
    )
    try:
        async with smtp:
            await smtp.send_message(msg)
    except SMTP_ERRORS:
        if not smtp.taken:
            raise


def permanent_refusal(exc: BaseException) -> str | None:
    """The server's reply when it refused this message for good, else None (retry it).

    Permanent means a 5xx reply about this message: every recipient refused (RCPT TO: unknown
    mailbox, domain without mail) or the message itself refused after DATA. A 4xx (greylisting,
    a full queue) and an unreachable server are passing troubles. A refused sender or failed
    login is 5xx too, but it is our own configuration, the same for every mail: setting mails
    aside for it would set them all aside, so those keep being retried until an operator acts.
    """
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = exc.recipients
        if refused and all(_permanent(r.code) for r in refused):
            return "; ".join(f"{r.code} {r.message}" for r in refused)
        return None
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError) and _permanent(exc.code):
        return f"{exc.code} {exc.message}"
    return None


def _permanent(code: int) -> bool:
    return 500 <= code < 600
