"""One JSON log line per request (`infra.logs`): method, route template, status, duration, with
the request id (taken from a well-formed incoming `X-Request-ID`, else new; always sent back), the
dossier and the staff account when the session names them, or the dossier a staff page is about.

The route template, never the URL: a URL can carry a dossier number of someone else's
(staff pages) or a one-time link's secret; the template carries neither. No client address either.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.logs import CONTEXT, LogContext

log = logging.getLogger("web.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Excluded from the request lines: probes and static files say nothing about a dossier.
_QUIET = ("/healthz", "/static/", "/metrics")


def request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.match(text):
                return text
    return uuid.uuid4().hex


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = LogContext(request_id=request_id(scope))
        token = CONTEXT.set(context)
        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", context.request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if not scope["path"].startswith(_QUIET):
                # The same template the metrics use (nested routers' prefixes included).
                template = get_route_name(HTTPConnection(scope), should_include_root_path=False) or "-"
                number = scope.get("path_params", {}).get("number")
                if number and not context.dossier:
                    context.dossier = str(number)  # a staff page about a dossier
                log.info(
                    "%s %s %d",
                    scope["method"],
                    template,
                    status,
                    extra={
                        "method": scope["method"],
                        "route": template,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            CONTEXT.reset(token)
