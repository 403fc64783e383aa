"""The web application: the candidate space (pages and JSON API) and the staff back office.

It holds a workflow client (`workflows.client`), a database and a file store; no dossier state.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from infra import logs
from infra.database import Database
from infra.files import FileStore
from infra.settings import Settings, get_settings
from infra.temporal import connect
from web import access_log, api, candidate, csrf, errors, metrics, staff
from web.deps import SESSION_COOKIE, session_token
from web.login import SessionRefreshMiddleware
from web.middleware import (
    BodySizeLimitMiddleware,
    ReceiptMiddleware,
    RequestQueueMiddleware,
    SecurityHeadersMiddleware,
    ServerTimingMiddleware,
)
from web.request_log import RequestLogMiddleware
from web.security import SessionTokens
from web.templating import STATIC_DIR
from workflows.client import WorkflowClient

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    access_log.install()  # reset tokens in URLs never reach the access log

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.environment != "test":  # tests keep pytest's log capture
            logs.configure()
        database = Database.of(settings)
        # The schema is the migrate step's (`python -m ops.migrate`), run before the web starts.
        await database.check_schema()
        client = await connect(settings)
        app.state.settings = settings
        app.state.database = database
        app.state.client = WorkflowClient(client, settings.task_queue, query_slots=settings.web_query_slots)
        app.state.files = FileStore(settings.files_dir)
        log.info("Web app ready: Temporal %s, task queue %s", settings.temporal_address, settings.task_queue)
        yield
        await database.dispose()

    if not settings.api_docs:
        log.info("API documentation (/docs, /redoc, /openapi.json) not served (INSCRIPTIONS_API_DOCS)")
    if settings.environment == "dev":
        log.warning(
            "Development mode (INSCRIPTIONS_ENVIRONMENT=dev): development secret allowed, plain cookies, "
            "API docs served. Never expose this process: production sets INSCRIPTIONS_ENVIRONMENT=production."
        )
    app = FastAPI(
        title="Inscriptions — espace sécurisé candidat",
        description="Préinscription, dépôt des pièces, validation et suivi des dossiers de concours.",
        lifespan=lifespan,
        # Production hides the route map unless INSCRIPTIONS_API_DOCS=true (Settings.api_docs).
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
        openapi_url="/openapi.json" if settings.api_docs else None,
    )
    # Known before the lifespan: the CSRF protection reads the session's id from the first request.
    tokens = SessionTokens(settings.secret_key, settings.session_hours * 3600)
    app.state.tokens = tokens
    app.state.session_cookie = settings.cookie_name(SESSION_COOKIE)

    # One French sentence naming the fields, in the `ErrorOut` shape every route documents for 422
    # (`web.schemas.error_responses`), not FastAPI's list of English errors.
    @app.exception_handler(RequestValidationError)
    async def french_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = sorted({".".join(str(p) for p in e["loc"][1:]) or "requête" for e in exc.errors()})
        return JSONResponse(
            status_code=422,
            content={"detail": f"Champ(s) manquant(s) ou invalide(s) : {', '.join(fields)}."},
        )

    # Added innermost first: the body limit runs before anything reads a body.
    # CSRF tokens are bound to the session the request's cookie names (`web.csrf`).
    csrf.install(
        app,
        settings.secret_key,
        settings.secure_cookies,
        session_id=lambda request: tokens.session_id(session_token(request)),
    )
    app.add_middleware(SessionRefreshMiddleware, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(ServerTimingMiddleware)
    # A surge waits its turn here, before any database connection is taken; the request log
    # (outside) counts the wait in each request's duration.
    app.add_middleware(RequestQueueMiddleware, slots=settings.web_requests_at_once, observe=metrics.observe_queue_wait)
    app.add_middleware(RequestLogMiddleware)  # its request id is in every line
    # Outermost: the stamp is taken before the app's own work, and the peer (a trusted reverse
    # proxy or the client) is still known.
    app.add_middleware(ReceiptMiddleware, trusted_proxies=settings.forwarded_allow_ips)
    errors.install(app)  # HTML error pages outside /api
    metrics.install(app)  # /metrics: requests by route and status, logins
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(api.router)
    app.include_router(candidate.router)
    app.include_router(staff.router)  # the back office, under /staff

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"ok": True}

    return app


app = create_app()
