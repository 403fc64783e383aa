"""Errors as pages: a refusal on a page route shows a French page, never a JSON body.

The JSON API (`/api/...`) keeps FastAPI's `{"detail": ...}` answers. Pages that need a login
raise `LoginRequired(login_url)`, which sends the browser to the login page of its area (the
candidate space's by default; the back office passes its own).
"""

from __future__ import annotations


from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from web.templating import render

API_PREFIX = "/api"

TITLES = {
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


def error_page(request: Request, status_code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = render(
        request,
        "error.html",
        status_code=status_code,
        title=TITLES.get(status_code, "Erreur"),
        message=message,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(API_PREFIX) or request.url.path in ("/docs", "/openapi.json"):
            return await http_exception_handler(request, exc)
        message = exc.detail if isinstance(exc.detail, str) else "La demande n'a pas pu aboutir."
        if exc.status_code == 404 and message == "Not Found":
            message = "Cette page n'existe pas ou n'est plus disponible."
        if exc.status_code == 405 and message == "Method Not Allowed":
            message = "Cette action n'est pas possible depuis cette page."
        return error_page(request, exc.status_code, message, exc.headers)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        # 303: after a POST too, the browser follows with a GET.
        return RedirectResponse(exc.login_url, status_code=303)


