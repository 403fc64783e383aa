"""Changing the candidate's e-mail address: confirmed by a link sent to the new address.

The candidate types a new address in their space; nothing changes yet. A signed, expiring link
(itsdangerous, the app's secret) goes to that address; following it proves the candidate reads
it. Only then does the web send the `change_email` Update (the dossier's later mails and the
mails the old address's server refused go to the new one), then change the account row.

The link names the dossier, the new address and the address it replaces. It is honoured only
while the account still has that old address, so once used (or overtaken by another change)
it is worth nothing, with no table of tokens. If the account row could not be written after the
Update, following the link again finishes the job (the Update with the same address does nothing
the second time).

The link is sent from here, not by the workflow: it is a secret, and the dossier's history is
durable and readable by operators. It goes while the candidate waits, so a new address that the
server refuses too is said at once rather than set aside.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from infra.settings import Settings
from infra.smtp import SMTP_ERRORS, compose, deliver, permanent_refusal
from web.password_reset import TOKEN_PARAMETER

log = logging.getLogger(__name__)

LINK_LIFETIME = timedelta(hours=24)
CONFIRM_PATH = "/adresse-electronique/confirmer"
_SALT = "email-change"

_MAIL_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates" / "mail"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # plain-text mail
)


@dataclass(frozen=True)
class EmailChange:
    dossier_number: str
    old: str  # the address on the account when the link was sent
    new: str


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=_SALT)


def issue(settings: Settings, change: EmailChange) -> str:
    return _serializer(settings).dumps({"n": change.dossier_number, "old": change.old, "new": change.new})


def read(settings: Settings, token: str) -> EmailChange | None:
    """The change a link asks for, or None if it is forged, altered or expired."""
    if not token or len(token) > 2000:
        return None
    try:
        data = _serializer(settings).loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
    except BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("n", "old", "new")):
        return None
    return EmailChange(data["n"], data["old"], data["new"])


def confirm_link(settings: Settings, token: str) -> str:
    # The reset link's parameter: `web.access_log` keeps its value out of the access log.
    return f"{settings.public_url.rstrip('/')}{CONFIRM_PATH}?{TOKEN_PARAMETER}={token}"


@dataclass(frozen=True)
class Sent:
    """How sending the link went: `refused` holds the server's reply to a refused address;
    `failed` means the server could not be reached or answered a passing error (ask again)."""

    refused: str | None = None
    failed: bool = False

    @property
    def ok(self) -> bool:
        return self.refused is None and not self.failed


async def send_link(settings: Settings, change: EmailChange) -> Sent:
    token = issue(settings, change)
    text = _MAIL_TEMPLATES.get_template("confirmation_adresse_electronique.txt").render(
        dossier_number=change.dossier_number,
        new_email=change.new,
        link=confirm_link(settings, token),
        hours=int(LINK_LIFETIME.total_seconds() // 3600),
        space_url=settings.public_url,
    )
    subject, _, body = text.partition("\n")
    msg = compose(
        settings,
        to=change.new,
        subject=subject.strip(),
        body=body.lstrip("\n"),
        key=f"email-change/{token}",
        dossier=change.dossier_number,
    )
    try:
        await deliver(settings, msg)
    except SMTP_ERRORS as exc:
        reply = permanent_refusal(exc)
        log.warning("Dossier %s: e-mail confirmation link not sent (%s)", change.dossier_number, exc)
        return Sent(refused=reply) if reply is not None else Sent(failed=True)
    log.info("Dossier %s: e-mail confirmation link sent", change.dossier_number)
    return Sent()
