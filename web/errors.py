"""Errors as pages: a refusal on a page route shows a French page, never a JSON body.

The JSON API (`/api/...`) answers every error as `{"detail": "<French message>"}` (the
`ErrorOut` of its OpenAPI schema), the framework's own English messages translated. What the workflow client
raises is translated here, once, for every route: the workflow's `Refusal` → 409 with its French
message, `NotFound` → 404, `Unavailable` → 503 with a `Retry-After`, `Pending` (an Update
Temporal has but whose outcome is late) → 202 saying the request is received and being recorded.
A database pool that gives no connection in time (`sqlalchemy.exc.TimeoutError`: the host is
overloaded) is a 503 with a `Retry-After` too, never a 500. Pages that need a login
raise `LoginRequired(login_url)`, which sends the browser to the login page of its area (the
candidate space's by default; the back office passes its own).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.dossier import Refusal
from web.templating import render
from workflows.client import NotFound, Pending, Unavailable

log = logging.getLogger(__name__)

API_PREFIX = "/api"

TITLES = {
    202: "Demande reçue",
    400: "Demande invalide",
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Action impossible",
    409: "Action impossible",
    410: "Lien expiré",
    413: "Fichier trop volumineux",
    415: "Format non autorisé",
    422: "Demande invalide",
    429: "Trop de tentatives",
    503: "Service momentanément indisponible",
}


class LoginRequired(Exception):
    """Raised by page dependencies when nobody (or the wrong kind of user) is logged in."""

    def __init__(self, login_url: str = "/connexion") -> None:
        self.login_url = login_url


RETRY_AFTER_SECONDS = "5"
BUSY = "Le service reçoit beaucoup de demandes en ce moment. Merci de réessayer dans quelques instants."

# Under /api only the framework answers 400, for a body it cannot parse (malformed JSON encoding
# or multipart), with English messages of its own; the API's code never raises it.
UNREADABLE_BODY = "Le corps de la requête est illisible (JSON ou formulaire mal formé)."


def as_http(exc: Refusal | NotFound | Unavailable | Pending) -> HTTPException:
    """What the workflow client raised, as the HTTP answer every route gives it."""
    if isinstance(exc, Pending):
        # Not an error: 202 Accepted. The update ID lets an operator find it in the history.
        return HTTPException(status.HTTP_202_ACCEPTED, exc.message, {"x-update-id": exc.update_id})
    if isinstance(exc, Refusal):
        return HTTPException(status.HTTP_409_CONFLICT, exc.message)
    if isinstance(exc, NotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, exc.message)
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, exc.message, {"retry-after": RETRY_AFTER_SECONDS})


def problem(exc: HTTPException | Refusal) -> tuple[int, str]:
    """Status and French message of a refusal a page shows in place (the form stays filled)."""
    http = as_http(exc) if isinstance(exc, Refusal) else exc
    return http.status_code, str(http.detail)


def error_page(request: Request, status_code: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    back: dict[str, str] = {}
    if status_code == status.HTTP_202_ACCEPTED:  # received, being recorded: the dashboard confirms it
        staff = request.url.path.startswith("/staff")
        back = {
            "back_url": "/staff/dossiers" if staff else "/espace",
            "back_label": "Revenir aux dossiers" if staff else "Voir mon tableau de bord",
            "received": "oui",
        }
    response = render(
        request,
        "error.html",
        status_code=status_code,
        title=TITLES.get(status_code, "Erreur"),
        message=message,
        **back,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(API_PREFIX) and exc.status_code == status.HTTP_400_BAD_REQUEST:
            exc = StarletteHTTPException(exc.status_code, UNREADABLE_BODY, exc.headers)
        if request.url.path.startswith(API_PREFIX) or request.url.path in ("/docs", "/openapi.json"):
            return await http_exception_handler(request, exc)
        # Typed str, but FastAPI's HTTPException (a subclass) accepts any detail.
        detail: object = exc.detail
        message = detail if isinstance(detail, str) else "La demande n'a pas pu aboutir."
        if exc.status_code == 404 and message == "Not Found":
            message = "Cette page n'existe pas ou n'est plus disponible."
        if exc.status_code == 405 and message == "Method Not Allowed":
            message = "Cette action n'est pas possible depuis cette page."
        return error_page(request, exc.status_code, message, exc.headers)

    async def workflow_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, (Refusal, NotFound, Unavailable, Pending))
        if isinstance(exc, Unavailable):
            log.warning("%s %s: Temporal unavailable (%s)", request.method, request.url.path, exc.__cause__ or exc)
        return await http_error(request, as_http(exc))

    for kind in (Refusal, NotFound, Unavailable, Pending):
        app.add_exception_handler(kind, workflow_error)

    @app.exception_handler(PoolTimeout)
    async def database_busy(request: Request, exc: PoolTimeout) -> Response:
        log.warning("%s %s: no database connection in time (%s)", request.method, request.url.path, exc)
        busy = HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, BUSY, {"retry-after": RETRY_AFTER_SECONDS})
        return await http_error(request, busy)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        # 303: after a POST too, the browser follows with a GET.
        return RedirectResponse(exc.login_url, status_code=303)
