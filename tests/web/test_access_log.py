"""A password reset through a real uvicorn server: its access log never holds the token."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from devtools.mail_sink import MailSink
from tests.conftest import eventually, free_port, mail_with_subject
from tests.web.conftest import NewCandidate
from tests.web.pages import token_in
from web.access_log import redact


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[tuple[str, Lines]]:
    """The app behind uvicorn on a free port, with uvicorn's own logging set-up and access log."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="info", access_log=True)
    access = Lines()
    logging.getLogger("uvicorn.access").addHandler(access)  # after the Config set up uvicorn's loggers
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}", access
    finally:
        server.should_exit = True
        await task
        logging.getLogger("uvicorn.access").removeHandler(access)


async def test_the_access_log_never_holds_a_reset_token(
    served: tuple[str, Lines], new_candidate: NewCandidate, mail_sink: MailSink
) -> None:
    base, access = served
    candidate = await new_candidate()
    async with httpx.AsyncClient(base_url=base) as browser:
        form = await browser.get("/mot-de-passe-oublie")
        sent = await browser.post(
            "/mot-de-passe-oublie", data={"dossier_number": candidate.number, "csrf_token": token_in(form)}
        )
        assert sent.status_code == 200
        mail = await mail_with_subject(mail_sink, candidate.number, "Réinitialisation de votre mot de passe")
        match = re.search(r"(/mot-de-passe/nouveau\?jeton=([\w-]+))", mail.body)
        assert match, mail.body
        link, token = match.groups()

        page = await browser.get(link)  # what the mail client opens
        assert page.status_code == 200
        new = "Nouveau-Secret-2027"
        done = await browser.post(
            "/mot-de-passe/nouveau",
            data={"jeton": token, "password": new, "password_confirmation": new, "csrf_token": token_in(page)},
        )
        assert done.status_code == 303
        reused = await browser.get(link)  # a second visit, link used: still not logged
        assert reused.status_code == 410

    await eventually(lambda: sum("/mot-de-passe/nouveau" in line for line in access.lines) >= 3)
    visits = [line for line in access.lines if "/mot-de-passe/nouveau" in line]
    assert any('"GET /mot-de-passe/nouveau?jeton=[masqué] HTTP/1.1" 200' in line for line in visits), visits
    assert all(token not in line for line in access.lines)


def test_redaction_keeps_the_rest_of_the_line() -> None:
    assert redact("/mot-de-passe/nouveau?jeton=abc-DEF_1&x=2") == "/mot-de-passe/nouveau?jeton=[masqué]&x=2"
    assert redact("/page?a=1&jeton=abc") == "/page?a=1&jeton=[masqué]"
    assert redact("/espace?ok=adresse") == "/espace?ok=adresse"
