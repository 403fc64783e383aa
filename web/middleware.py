"""Middleware every response goes through: the instant of receipt, a queue in arrival order,
security headers, timings and a cap on request bodies."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from domain.documents import MAX_UPLOAD_BYTES
from infra.clock import now
from infra.in_order import InOrder

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


RECEIVED_AT = "received_at"  # scope["state"] key: the instant the request reached us

# A proxy's stamp older than this (by the app's clock) is not believed: no browser waits longer
# for an answer, so it can only be a replay or a proxy clock gone wrong.
PROXY_STAMP_MAX_AGE = timedelta(seconds=120)
# ... nor one ahead of the app's clock by more than this (the proxy's and the app's clocks are
# kept by NTP; a proxy on the same host has the same clock).
PROXY_STAMP_MAX_AHEAD = timedelta(seconds=1)

log = logging.getLogger(__name__)


def proxy_stamp(value: str) -> datetime | None:
    """The instant in an `X-Request-Start` header: `t=` then seconds since the epoch (nginx's
    `t=${msec}`, milliseconds after the point), or the same in milliseconds or microseconds
    (other proxies' habit); None if it is not one."""
    number = value.strip().removeprefix("t=")
    try:
        seconds = float(number)
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    while seconds > 1e11:  # milliseconds or microseconds since the epoch
        seconds /= 1000
    return datetime.fromtimestamp(seconds, UTC)


class ReceiptMiddleware:
    """Stamps every request with the instant it reached us, before anything can make it wait (a
    body read, a database connection, a password hash, Temporal). Deadlines are judged at this
    instant (`domain.dossier.Dossier.received`): a server's clock, never the browser's.

    Without a proxy that instant is the app's clock when the request starts. Behind the centre's
    reverse proxy (`trusted_proxies`, FORWARDED_ALLOW_IPS) it is the instant the proxy received
    the request, which the proxy sends in `X-Request-Start` (nginx: `proxy_set_header
    X-Request-Start "t=${msec}";`): when the app is saturated on deadline night, a request can
    wait for it in the proxy and in the socket, and a click sent at 23:59:59.8 must not be judged
    by when the app got round to it. The proxy's stamp is believed only from a trusted peer, and
    only within PROXY_STAMP_MAX_AGE before the app's clock and PROXY_STAMP_MAX_AHEAD after it;
    otherwise the app's own instant is taken and a warning logged.

    The same trusted peers give the client's address (X-Forwarded-For, read by uvicorn's own
    ProxyHeadersMiddleware, run here rather than by uvicorn's `--proxy-headers`: the peer must
    still be known when the stamp is read, and uvicorn's replaces it)."""

    def __init__(self, app: ASGIApp, trusted_proxies: str = "") -> None:
        # uvicorn types ASGI more narrowly than Starlette; both are the same ASGI 3 callables.
        self.proxies = (
            ProxyHeadersMiddleware(cast(Any, app), trusted_hosts=trusted_proxies) if trusted_proxies else None
        )
        self.app: ASGIApp = cast(ASGIApp, self.proxies) if self.proxies else app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})[RECEIVED_AT] = self._received_at(scope)
        await self.app(scope, receive, send)

    def _received_at(self, scope: Scope) -> datetime:
        own = now()
        if self.proxies is None:
            return own
        peer = scope.get("client")
        if not peer or peer[0] not in self.proxies.trusted_hosts:
            return own
        header = next((v for k, v in scope["headers"] if k == b"x-request-start"), None)
        if header is None:
            return own
        stamp = proxy_stamp(header.decode("latin-1"))
        if stamp is None or not own - PROXY_STAMP_MAX_AGE <= stamp <= own + PROXY_STAMP_MAX_AHEAD:
            log.warning(
                "The reverse proxy's X-Request-Start %r is not believable at %s (the app's clock); the app's "
                "instant is taken. Check the proxy's clock (NTP) and its X-Request-Start setting.",
                header[:40].decode("latin-1"),
                own.isoformat(),
            )
            return own
        return min(stamp, own)  # never later than the app saw it


QUERY_SECONDS = "timing_query_seconds"  # scope["state"] key: time spent reading the dossier
QUEUE_SECONDS = "timing_queue_seconds"  # scope["state"] key: time waiting for a request slot

# Never queued: the load balancer's probe and the operators' figures must tell the truth about a
# saturated process at once, and static files cost nothing.
UNQUEUED_PREFIXES = ("/healthz", "/metrics", "/static/")


class RequestQueueMiddleware:
    """At most `slots` requests of this process are worked on at once; the others wait their
    turn here, in arrival order, and none is refused.

    On deadline night thousands of requests arrive within seconds. Let in all at once, they share
    the event loop: each one's few database statements then take as long as a turn of the loop
    through all the others, its pooled connection is held that long, and the pool runs dry
    (a 503 after the pool's timeout: 151 logins at 5,000 candidates in a minute, before this
    queue). Let in a few at a time, each request finishes in milliseconds once in, and the wait
    is spent here, where it costs nothing and keeps the order of arrival. The instant of receipt
    is stamped before (`ReceiptMiddleware`), so the wait never makes a click late.

    `observe(seconds)` is called with each queued request's wait (the `/metrics` histogram)."""

    def __init__(self, app: ASGIApp, slots: int, observe: Callable[[float], None] | None = None) -> None:
        self.app = app
        self.slots = InOrder(slots)
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNQUEUED_PREFIXES):
            await self.app(scope, receive, send)
            return
        arrived = time.perf_counter()
        async with self.slots:
            waited = time.perf_counter() - arrived
            scope.setdefault("state", {})[QUEUE_SECONDS] = waited
            if self.observe is not None:
                self.observe(waited)
            await self.app(scope, receive, send)


class ServerTimingMiddleware:
    """`Server-Timing: app;dur=<ms>, query;dur=<ms>, queue;dur=<ms>` on every response: how
    long the app took to start answering once the request had its turn, how much of it the
    dossier's Temporal query took, and how long the request waited for its turn
    (`RequestQueueMiddleware`). Browsers' dev tools show it; the benchmark and operators use it
    to tell the app's time from the network's.
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
                queued = scope.get("state", {}).get(QUEUE_SECONDS)
                if queued is not None:
                    parts.append(f"queue;dur={queued * 1000:.1f}")
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
