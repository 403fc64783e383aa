"""A development SMTP server that keeps every message, and a page to read them.

Runs in dev (`python -m devtools.mail_sink`: SMTP on 1025, mailbox page on 8025) and in-process
in the tests, which read what the product really sent over SMTP.

It can play a mail server that does not know some mailboxes: recipients given with `--refuse`
(or `INSCRIPTIONS_MAIL_SINK_REFUSE`, comma-separated, which `scripts/dev.sh` passes on), or added
to `MailSink.refused_recipients` by a test, are refused at RCPT TO with a permanent 550.

It can also play a mail server that is down for a while: with `--outage-file PATH` (or
`INSCRIPTIONS_MAIL_SINK_OUTAGE_FILE`), every message is refused with a temporary 451 while that
file exists (`devtools.fault_drill` creates it, then removes it a few minutes later).
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import html
import mailbox
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class ReceivedMail:
    to: list[str]
    subject: str
    body: str
    message_id: str
    dossier: str


class MailSink:
    """Collects messages in memory (and in a Maildir when given one)."""

    def __init__(self, maildir: Path | None = None) -> None:
        self.messages: list[ReceivedMail] = []
        self._maildir = mailbox.Maildir(maildir, create=True) if maildir else None
        self._lock = threading.Lock()
        self.refusing = False  # tests simulate an outage with this
        # Mailboxes this server says do not exist (compared without case): 550 at RCPT TO.
        self.refused_recipients: set[str] = set()
        self.refused: list[str] = []  # each recipient refused, in order, for tests to wait on
        self.port = 0  # where start() made it listen

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in {r.lower() for r in self.refused_recipients}:
            with self._lock:
                self.refused.append(address)
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refusing:
            return "451 4.3.0 Mail server temporarily unavailable"
        content = envelope.original_content or envelope.content or b""
        raw = content.encode() if isinstance(content, str) else content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        body_part = msg.get_body(preferencelist=("plain",))
        received = ReceivedMail(
            to=list(envelope.rcpt_tos),
            subject=str(msg["Subject"]),
            body=body_part.get_content() if body_part else "",
            message_id=str(msg["Message-ID"]),
            dossier=str(msg.get("X-Dossier", "")),
        )
        with self._lock:
            self.messages.append(received)
            if self._maildir is not None:
                self._maildir.add(raw)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[ReceivedMail]:
        with self._lock:
            return [m for m in self.messages if address in m.to]

    def for_dossier(self, number: str) -> list[ReceivedMail]:
        with self._lock:
            return [m for m in self.messages if m.dossier == number]


def start(sink: MailSink, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    controller = Controller(sink, hostname=host, port=port)
    controller.start()
    sink.port = port
    return controller


def mailbox_page(maildir: Path) -> str:
    box = mailbox.Maildir(maildir, create=True)
    items = []
    for raw in sorted(box.values(), key=lambda m: m.get_date() if hasattr(m, "get_date") else 0, reverse=True):
        msg = email.message_from_bytes(raw.as_bytes(), policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        body = part.get_content() if part else ""
        items.append(
            f"<article><h2>{html.escape(str(msg['Subject']))}</h2>"
            f"<p><b>À :</b> {html.escape(str(msg['To']))} — <b>Date :</b> {html.escape(str(msg['Date']))}</p>"
            f"<pre>{html.escape(body)}</pre></article>"
        )
    return (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Boîte de test</title>"
        "<meta http-equiv='refresh' content='10'>"
        "<style>body{font-family:sans-serif;max-width:60rem;margin:auto;padding:1rem}"
        "article{border-bottom:1px solid #ccc;padding:.5rem 0}pre{white-space:pre-wrap}</style></head>"
        f"<body><h1>Boîte de réception de développement ({len(items)} messages)</h1>{''.join(items)}</body></html>"
    )


async def follow_outage_file(sink: MailSink, path: Path) -> None:
    """Refuse mail (451) while `path` exists: another process turns the outage on and off."""
    while True:
        refusing = await asyncio.to_thread(path.exists)
        if refusing != sink.refusing:
            print(f"Mail sink: {'refusing every message with 451' if refusing else 'taking mail again'}", flush=True)
        sink.refusing = refusing
        await asyncio.sleep(0.5)


async def serve(
    maildir: Path, smtp_port: int, http_port: int, refuse: list[str] | None = None, outage_file: Path | None = None
) -> None:
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    sink = MailSink(maildir)
    sink.refused_recipients.update(refuse or [])
    controller = start(sink, port=smtp_port)
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        return mailbox_page(maildir)

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=http_port, log_level="warning"))
    follower = asyncio.ensure_future(follow_outage_file(sink, outage_file)) if outage_file else None
    try:
        await server.serve()
    finally:
        if follower is not None:
            follower.cancel()
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--maildir", type=Path, default=Path("data/mail"))
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument(
        "--refuse",
        action="append",
        default=[a.strip() for a in os.environ.get("INSCRIPTIONS_MAIL_SINK_REFUSE", "").split(",") if a.strip()],
        metavar="ADDRESS",
        help="answer 550 (unknown mailbox) for this recipient; repeatable",
    )
    parser.add_argument(
        "--outage-file",
        type=Path,
        default=os.environ.get("INSCRIPTIONS_MAIL_SINK_OUTAGE_FILE") or None,
        metavar="PATH",
        help="answer 451 (temporary failure) to every message while this file exists",
    )
    args = parser.parse_args()
    if args.refuse:
        print(f"Mail sink: refusing with 550: {', '.join(args.refuse)}", flush=True)
    asyncio.run(serve(args.maildir, args.smtp_port, args.http_port, args.refuse, args.outage_file))


if __name__ == "__main__":
    main()
