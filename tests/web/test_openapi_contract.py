"""The JSON API answers what its OpenAPI schema says.

Schemathesis reads the app's own schema, generates requests from it (valid ones and invalid
ones), sends them to the app on the real stack (Temporal, worker, database), as an anonymous
client and as a logged-in candidate, and runs its default checks on every answer: no server
error, a documented status, the documented content type and headers, a body that matches the
documented schema, valid data accepted and invalid data refused.

Bounded and reproducible: a few examples per operation and per kind of data, derandomized, no
example database, no shrinking (a failure shows the request as generated).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from starlette.types import ASGIApp, Message

from infra.database import Database
from tests.web.pages import PDF, PNG, client, open_campaign, preregister
from web.errors import UNREADABLE_BODY

EXAMPLES = 10  # per operation and per generation mode
# Withdrawal ends the dossier: tried last, so the other operations meet a dossier still open.
LAST = "POST /api/dossier/desistement"
# Not the address of the other web tests: the login rate limit counts per client address, and
# the generated wrong logins must not spend the budget of the tests that log in for real.
CLIENT_ADDRESS = "192.0.2.74"


class OnLoop:
    """An ASGI app that serves each request with `app` on `loop`, whatever loop the caller runs.

    Schemathesis calls an ASGI app from an event loop of its own, in a thread; the app's database
    engine and Temporal client belong to the test session's loop. So the request is read here,
    served there, and its answer replayed here.
    """

    def __init__(self, app: ASGIApp, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":  # the app's lifespan already runs on the session's loop
            while True:
                message = await receive()
                await send({"type": f"{message['type']}.complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        scope = {**scope, "client": (CLIENT_ADDRESS, 50000), "state": {}}
        served = asyncio.run_coroutine_threadsafe(self._serve(scope, body), self.loop)
        for message in await asyncio.wrap_future(served):
            await send(message)

    async def _serve(self, scope: dict, body: bytes) -> list[Message]:
        sent: list[Message] = []
        answered = asyncio.Event()
        delivered = False

        async def receive() -> dict:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered.set()

        await self.app(scope, receive, send)
        return sent


# Uploads declare the accepted types (`encoding.contentType`); valid files of two of them, so
# that valid data reaches the dossier's rules rather than the type check.
schemathesis.openapi.media_type("application/pdf", st.just(PDF))
schemathesis.openapi.media_type("image/png", st.just(PNG))


def has_inputs(operation: Any) -> bool:
    return bool(operation.body) or any(True for _ in operation.iter_parameters())


def check_every_operation(schema: Any, app: OnLoop, *, headers: dict[str, str], cookies: dict[str, str]) -> list[str]:
    """Generate and check requests for each operation; returns the labels checked."""
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()), key=lambda op: (op.label == LAST, op.label)
    )
    checked = []
    for operation in operations:
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if has_inputs(operation) else [])
        for mode in modes:

            @hypothesis.settings(
                max_examples=EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Any) -> None:
                case.call_and_validate(app=app, headers=headers, cookies=cookies)

            check()
        checked.append(operation.label)
    return checked


@pytest.fixture
async def contract(app: FastAPI) -> tuple[Any, OnLoop]:
    schema = schemathesis.openapi.from_dict(app.openapi())
    return schema, OnLoop(app, asyncio.get_running_loop())


async def test_anonymous_calls_get_documented_answers(contract: tuple[Any, OnLoop]) -> None:
    schema, app = contract
    checked = await asyncio.to_thread(check_every_operation, schema, app, headers={}, cookies={})
    assert "GET /api/dossier" in checked and "POST /api/dossier/pieces" in checked


async def test_a_logged_in_candidate_gets_documented_answers(
    app: FastAPI, database: Database, contract: tuple[Any, OnLoop]
) -> None:
    schema, proxy = contract
    async with client(app) as http:
        number, data = await preregister(http, (await open_campaign(database)).id)
        login = await http.post("/api/session", json={"dossier_number": number, "password": data["password"]})
        assert login.status_code == 200, login.text
        cookies = dict(http.cookies)
    headers = {"X-CSRF-Token": login.json()["csrf_token"]}
    checked = await asyncio.to_thread(check_every_operation, schema, proxy, headers=headers, cookies=cookies)
    assert checked[-1] == LAST


def test_every_error_is_documented_with_the_one_error_body(app: FastAPI) -> None:
    document = app.openapi()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if int(code) >= 400:
                    body = response["content"]["application/json"]["schema"]
                    assert body == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, code)


async def test_an_unreadable_body_gets_a_french_400(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/dossier/pieces",
        content=b"--x\r\nnot a part",
        headers={"content-type": "multipart/form-data; boundary=x", "x-csrf-token": "whatever"},
    )
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": UNREADABLE_BODY}
