"""All configuration, from environment variables (prefix INSCRIPTIONS_) with local defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-change-me"
# The secret signs sessions, CSRF tokens and links: 32 characters at least in production (e.g.
# `openssl rand -hex 32` gives 64), so it cannot be guessed offline from a signed cookie.
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INSCRIPTIONS_", extra="ignore")

    environment: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = PROJECT_ROOT / "data"

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "inscriptions"
    temporal_ui_url: str = "http://127.0.0.1:8233"

    # SQLite by default (a file under data_dir); PostgreSQL in production:
    # postgresql+asyncpg://user:password@host/db
    database_url: str = ""
    # Pooled database connections per process, and how long a request waits for one before the
    # candidate gets a "try again in a moment" page (503) instead of an error.
    database_pool_size: int = 5
    database_max_overflow: int = 10
    database_pool_timeout: float = 10.0

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Service concours <concours@cdg.example.fr>"

    public_url: str = "http://127.0.0.1:8000"
    # The reverse proxies in front of the web (addresses or networks, comma-separated), uvicorn's
    # own variable FORWARDED_ALLOW_IPS (no prefix). Only from them are X-Forwarded-For (the
    # client's address, counted by the rate limits) and X-Request-Start (the instant the proxy
    # received the request, which deadlines are judged by) believed (`web.middleware`). Empty: no
    # proxy, every peer is a client. Never "*": clients could then choose their address and time.
    forwarded_allow_ips: str = Field("", validation_alias=AliasChoices("FORWARDED_ALLOW_IPS", "forwarded_allow_ips"))
    secret_key: str = DEV_SECRET
    session_hours: int = 8
    # A staff session also ends after this long without a request (OWASP: 15 to 30 minutes for
    # accounts that can act on others' data), besides the absolute `session_hours`.
    staff_idle_minutes: int = 30
    # /docs, /redoc and /openapi.json: shown in development and tests; in production only when
    # set to true on purpose (they map every route for an attacker).
    api_docs: bool | None = None

    # Pre-registrations taken per client address per hour, and per e-mail address per day
    # (`web.registration`): each one hashes a password, starts a durable workflow and sends an
    # e-mail, so a script must not file them by the thousand or flood someone's mailbox. A
    # centre's reception desk registering candidates on their behalf may need more per address.
    preregistrations_per_address: int = 20
    preregistrations_per_email: int = 3

    # Dossiers a worker keeps in memory (about 0.2 MB each: 483 MiB for a worker holding 2,000,
    # bench/deadline_surge.py); others are rebuilt from their history when they wake or are read
    # (a fresh sandbox and a replay: several times a cached task's CPU). On deadline night every
    # open dossier of the campaign is read and woken, so size it to them.
    worker_cached_workflows: int = 5000
    # Workflow tasks a worker takes at once. They run one at a time on Python's interpreter lock,
    # so more slots add no throughput: they only let tasks age in the worker, where Temporal's
    # 10 s task timeout runs, until they time out and are redone (a spiral under a surge). Fewer
    # slots leave the backlog in the server's queue, where no timeout runs.
    worker_workflow_task_slots: int = 8
    # How long a task for a cached dossier waits for this worker before going to any worker with
    # the whole history (the SDK's default is 10 s). Under a surge the wait is the backlog: moving
    # the task would replace a cheap cached task with a rebuild. New tasks for a worker that has
    # not polled for 10 s (dead) go to the shared queue at once (the server checks); only those
    # already queued when it died wait this long.
    worker_sticky_timeout_seconds: float = 30.0
    # Processes a worker renders its letters in (`activities.rendering`): a bulk action's
    # convocations then leave the worker's interpreter lock to its workflow tasks and messages.
    # 0 renders in a thread of the worker.
    letter_processes: int = 1
    # Dossier queries (every candidate page) a web process has in flight at once; the others wait
    # their turn in the process, in arrival order. A query the server gives up on (after 30 s
    # in a worker's backlog) is still computed by the worker for nobody: waiting here instead
    # keeps that backlog short, so a surge costs time, not wasted work and 503s.
    web_query_slots: int = 16
    # Requests a web process works on at once; the others wait their turn in arrival order
    # (`web.middleware.RequestQueueMiddleware`), never refused. Enough to keep the query slots
    # and the password checks busy; few enough that a request once in finishes in milliseconds
    # and returns its database connection at once, whatever the surge.
    web_requests_at_once: int = 32

    # Where the worker serves its Prometheus metrics (`/metrics`: Temporal's SDK metrics and the
    # business figures); empty: none. Each worker process needs its own port.
    worker_metrics_address: str = "127.0.0.1:9464"
    # Worker Versioning (README « Exploitation », `ops/deploy.py`): the deployment's name, empty
    # for unversioned workers; the build id, empty for the one derived from the code.
    worker_deployment: str = ""
    worker_build_id: str = ""
    # How often the worker reads the dossier and batch counts from visibility for its gauges.
    metrics_refresh_seconds: float = 30.0
    # What the operators' live view (`/staff/direct`) scrapes, comma-separated URLs of `/metrics`
    # endpoints. Workers: empty for the one at `worker_metrics_address`. Web: empty for the
    # answering process's own figures; list every web process's to see them all.
    live_view_worker_metrics: str = ""
    live_view_web_metrics: str = ""

    @property
    def live_view_worker_urls(self) -> list[str]:
        if self.live_view_worker_metrics.strip():
            return [u.strip() for u in self.live_view_worker_metrics.split(",") if u.strip()]
        return [f"http://{self.worker_metrics_address}/metrics"] if self.worker_metrics_address else []

    @property
    def live_view_web_urls(self) -> list[str]:
        return [u.strip() for u in self.live_view_web_metrics.split(",") if u.strip()]

    @model_validator(mode="after")
    def _defaults_and_safety(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'inscriptions.db'}"
        if self.environment == "production":
            if self.secret_key == DEV_SECRET:
                raise ValueError(
                    "INSCRIPTIONS_SECRET_KEY is the development value: set a long random value in production"
                )
            if len(self.secret_key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"INSCRIPTIONS_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters in production "
                    "(e.g. `openssl rand -hex 32`)"
                )
        if self.api_docs is None:
            self.api_docs = self.environment != "production"
        return self

    @property
    def files_dir(self) -> Path:
        """Uploaded and generated files, outside the web root, under generated names."""
        return self.data_dir / "files"

    @property
    def secure_cookies(self) -> bool:
        """Production is served over HTTPS: Secure and `__Host-` cookies, HSTS. Local http
        development and the tests keep plain cookies."""
        return self.environment == "production"

    def cookie_name(self, base: str) -> str:
        """`__Host-<base>` over HTTPS: the browser then accepts the cookie only from this exact
        host, Secure, for Path=/ and without Domain, so a sibling subdomain cannot plant or
        overwrite it (a planted CSRF nonce, a fixed session)."""
        return f"__Host-{base}" if self.secure_cookies else base


@lru_cache
def get_settings() -> Settings:
    return Settings()


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# The web processes sharing one port: uvicorn's `--workers`, whose default is uvicorn's own
# variable WEB_CONCURRENCY (unset: one). One Python process computes on one core at most (its
# interpreter lock), and on deadline night a page's own work (session check, the summary decoded,
# the template) saturates that core while the rest of the machine waits: the run command and the
# benches start one process per core, at most 4, unless WEB_CONCURRENCY says otherwise.
MAX_DEFAULT_WEB_PROCESSES = 4


def web_processes(environ: Mapping[str, str] = os.environ) -> int:
    """How many web processes serve the port, as uvicorn reads it (WEB_CONCURRENCY, else 1)."""
    value = environ.get("WEB_CONCURRENCY", "").strip()
    return max(1, int(value)) if value else 1


def default_web_processes(environ: Mapping[str, str] = os.environ) -> int:
    """What the run command starts: WEB_CONCURRENCY if set, else one per core (at most 4)."""
    if environ.get("WEB_CONCURRENCY", "").strip():
        return web_processes(environ)
    return min(MAX_DEFAULT_WEB_PROCESSES, available_cores())
