"""Middleware every response goes through: security headers and a cap on request bodies."""

from __future__ import annotations

import json
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.documents import MAX_UPLOAD_BYTES
from infra.clock import now

# Room for the multipart envelope and the form's other fields around one 10 MB file: a file just
# over 10 MB still reaches the upload code, which answers with the precise French message.
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 256 * 1024

TOO_LARGE = "Le fichier dépasse la taille maximale de 10 Mo."

SECURITY_HEADERS = [
    # Pages use only our own stylesheet and no script; nothing may frame them (clickjacking).
    (
        b"content-security-policy",
        (
            b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ),
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Password-reset links carry their token in the URL: never leak it in a Referer.
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


# Files uploaded by candidates, shown to staff from the app's origin: whatever the bytes hold,
# the browser treats the document as coming from a unique opaque origin (`sandbox`: no script,
# no form, no access to the app's cookies, storage or pages), loading nothing (`default-src
# 'none'`), framed only by our own dossier page. Sandboxed by this header rather than by the
# iframe's `sandbox` attribute: Chromium refuses to run its PDF viewer in a sandboxed iframe (the
# preview would be blank) but does show a PDF whose response carries the sandbox (checked with
# the chromium the browser tests drive).
UNTRUSTED_FILE_CSP = (
    "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
)

# Production is served over HTTPS only: browsers then refuse plain http for this host for two
# years, so no cookie or form can be caught on a first http:// request.
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class SecurityHeadersMiddleware:
    """Adds the headers above (and HSTS when served over HTTPS); pages about a person are never
    stored by browsers or proxies."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.headers = [*SECURITY_HEADERS, HSTS] if hsts else SECURITY_HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in self.headers if n not in present]
                if not path.startswith("/static/") and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


RECEIVED_AT = "received_at"  # scope["state"] key: the instant the request reached the app


class ReceiptMiddleware:
    """Stamps every request with the instant it reached the app, before anything can make it
    wait (a body read, a database connection, a password hash, Temporal). Deadlines are judged
    at this instant (`domain.dossier.Dossier.received`): the server's clock, never the browser's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})[RECEIVED_AT] = now()
        await self.app(scope, receive, send)


QUERY_SECONDS = "timing_query_seconds"  # scope["state"] key: time spent reading the dossier


class ServerTimingMiddleware:
    """`Server-Timing: app;dur=<ms>, query;dur=<ms>` on every response: how long the app took
    to start answering, and how much of it the dossier's Temporal query took. Browsers' dev
    tools show it; the benchmark and operators use it to tell the app's time from the network's.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_with_timing(message: Message) -> None:
            if message["type"] == "http.response.start":
                parts = [f"app;dur={(time.perf_counter() - started) * 1000:.1f}"]
                query = scope.get("state", {}).get(QUERY_SECONDS)
                if query is not None:
                    parts.append(f"query;dur={query * 1000:.1f}")
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"server-timing", ", ".join(parts).encode())],
                }
            await send(message)

        await self.app(scope, receive, send_with_timing)


class BodySizeLimitMiddleware:
    """Refuses oversized bodies before anything parses them (a 1 GB upload never hits the disk).

    A declared Content-Length over the limit gets a 413 at once. A chunked body without one is
    counted as it streams, and cut off (seen by the app as a client disconnect) past the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        if scope.get("path", "").startswith("/api"):
            body = json.dumps({"detail": TOO_LARGE}).encode()
            content_type = b"application/json"
        else:
            body = (
                '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
                "<title>Erreur : fichier trop volumineux — Espace sécurisé candidat</title>"
                '<link rel="stylesheet" href="/static/style.css"></head><body><main class="container">'
                f"<h1>Fichier trop volumineux</h1><p>{TOO_LARGE}</p>"
                '<p><a href="/espace/pieces">Revenir à mes pièces justificatives</a></p>'
                "</main></body></html>"
            ).encode()
            content_type = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
