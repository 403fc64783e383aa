"""CSRF protection for every form: signed double-submit tokens.

How it works: the browser holds a random nonce in an HttpOnly cookie; each form carries a token
that is the nonce *and the session* signed with the app's secret. A POST passes only when the
token's signature is valid, names the nonce of the cookie that came with it, and names the
session of the session cookie that came with it. A cross-site page can make the browser send the
cookies but cannot read them, so it cannot produce the matching token. An attacker who plants
their own nonce cookie in a victim's browser (from a sibling subdomain, or over plain http) and
submits the token they were given with it still fails: that token names the attacker's session
(or none), not the victim's, which they never see. Over HTTPS the cookie is also `__Host-`
prefixed, which browsers refuse to accept from a subdomain. No server-side store.

Reuse (candidate pages, staff back office, anything posting forms):
- `install(app, secret, secure_cookie)` once in `create_app` (adds the cookie middleware);
- templates write `{{ csrf_input(request) }}` inside each `<form method="post">`;
- routers declare `dependencies=[Depends(require_csrf)]`: safe methods pass, every POST/PUT/
  PATCH/DELETE needs the token, from the `csrf_token` form field or the `X-CSRF-Token` header;
- call `rotate(request, session_id=...)` when the session changes (login, logout), so a token
  seen before login is worth nothing after it (`web.login` does).

JSON APIs use `require_csrf_unless_json`: a cross-site page cannot send `application/json`, nor
any method but GET and POST, without a CORS preflight, which this app never grants; so only
non-JSON POSTs (multipart uploads, bodiless actions) must bring the header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from fastapi import FastAPI, HTTPException, Request, status
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup, escape
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "inscriptions_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_STATE_NEW_NONCE = "csrf_new_nonce"
_STATE_SESSION = "csrf_session_id"  # the session opened or closed by this very request


def _no_session(request: Request) -> str:
    return ""


REFUSED = "Ce formulaire a expiré ou ne provient pas de ce site. Rechargez la page, puis recommencez."


class CsrfProtection:
    def __init__(self, secret: str, secure_cookie: bool, session_id: Callable[[Request], str] = _no_session) -> None:
        """`session_id(request)`: the id of the session the request's cookie names ("" if none)."""
        self._signer = URLSafeSerializer(secret, salt="csrf")
        self._binding_key = hashlib.sha256(b"csrf-session-binding|" + secret.encode()).digest()
        self.secure_cookie = secure_cookie
        self.cookie = f"__Host-{COOKIE}" if secure_cookie else COOKIE
        self._session_id = session_id

    def token(self, request: Request) -> str:
        """The token for forms on this page; issues a cookie nonce if the browser has none."""
        nonce = request.scope.get("state", {}).get(_STATE_NEW_NONCE) or self._cookie_nonce(request)
        if nonce is None:
            nonce = self._new_nonce(request)
        return self._signer.dumps([nonce, self._binding(request)])

    def rotate(self, request: Request, session_id: str | None = None) -> None:
        """A fresh nonce (set on the response by the middleware): old tokens stop working. With
        `session_id` (a login: the new session's; a logout: ""), tokens issued for the rest of
        this request are bound to that session rather than to the cookie the request came with."""
        self._new_nonce(request)
        if session_id is not None:
            request.scope.setdefault("state", {})[_STATE_SESSION] = session_id

    def verify(self, request: Request, submitted: str | None) -> bool:
        nonce = self._cookie_nonce(request)
        if not nonce or not submitted:
            return False
        try:
            signed = self._signer.loads(submitted)
        except BadSignature:
            return False
        if not (isinstance(signed, list) and len(signed) == 2 and all(isinstance(p, str) for p in signed)):
            return False  # tokens of the former, unbound format included
        return hmac.compare_digest(signed[0], nonce) and hmac.compare_digest(signed[1], self._binding(request))

    def _binding(self, request: Request) -> str:
        """A keyed digest of the session id (the page never shows the id itself)."""
        state = request.scope.get("state", {})
        session_id = state[_STATE_SESSION] if _STATE_SESSION in state else self._session_id(request)
        if not session_id:
            return ""
        return hmac.new(self._binding_key, session_id.encode(), hashlib.sha256).hexdigest()[:32]

    def _new_nonce(self, request: Request) -> str:
        nonce = secrets.token_urlsafe(32)
        request.scope.setdefault("state", {})[_STATE_NEW_NONCE] = nonce
        return nonce

    def _cookie_nonce(self, request: Request) -> str | None:
        value = request.cookies.get(self.cookie)
        # A nonce we issued is 43 URL-safe characters; anything else is ignored and replaced.
        if value and 32 <= len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value):
            return value
        return None

    def cookie_header(self, nonce: str) -> bytes:
        # HttpOnly: the token travels in the page, so scripts never need the cookie.
        # No Max-Age: it lives as long as the browser session. `__Host-` needs Secure, Path=/
        # and no Domain, which these are.
        parts = [f"{self.cookie}={nonce}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if self.secure_cookie:
            parts.append("Secure")
        return "; ".join(parts).encode("latin-1")


class CsrfCookieMiddleware:
    """Sets the nonce cookie on the response when a page issued or rotated one."""

    def __init__(self, app: ASGIApp, protection: CsrfProtection) -> None:
        self.app = app
        self.protection = protection

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                nonce = scope.get("state", {}).get(_STATE_NEW_NONCE)
                if nonce:
                    headers = list(message.get("headers", []))
                    headers.append((b"set-cookie", self.protection.cookie_header(nonce)))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def install(
    app: FastAPI, secret: str, secure_cookie: bool, session_id: Callable[[Request], str] = _no_session
) -> CsrfProtection:
    protection = CsrfProtection(secret, secure_cookie, session_id)
    app.state.csrf = protection
    app.add_middleware(CsrfCookieMiddleware, protection=protection)
    return protection


def protection_of(request: Request) -> CsrfProtection:
    return request.app.state.csrf


def csrf_input(request: Request) -> Markup:
    """The hidden field every form includes (a Jinja global)."""
    token = protection_of(request).token(request)
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(token)}">')


def rotate(request: Request, session_id: str | None = None) -> None:
    protection_of(request).rotate(request, session_id)


async def _submitted_token(request: Request) -> str | None:
    header = request.headers.get(HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        # FastAPI has usually parsed the form already; Starlette caches it on the request.
        value = (await request.form()).get(FIELD)
        return value if isinstance(value, str) else None
    return None


async def require_csrf(request: Request) -> None:
    """Router dependency: every unsafe request must carry a valid token."""
    if request.method in SAFE_METHODS:
        return
    if not protection_of(request).verify(request, await _submitted_token(request)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, REFUSED)


async def require_csrf_unless_json(request: Request) -> None:
    """For JSON APIs. Without a CORS preflight (never granted here) a cross-site page can only
    send GET or POST with a form-like body, so JSON POSTs and other methods pass; any other
    POST (a multipart upload, a bodiless action) must bring the `X-CSRF-Token` header."""
    if request.method != "POST":
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return
    if not protection_of(request).verify(request, request.headers.get(HEADER)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, REFUSED)
