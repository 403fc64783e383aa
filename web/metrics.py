"""The web's Prometheus metrics at `/metrics`: requests by route and status with their latency
(prometheus-fastapi-instrumentator), logins by outcome, and the time requests waited for their
turn.

Figures are per process. Several web processes (one uvicorn per port, as in production) are each
scraped on their own port and summed in the queries. Under one `uvicorn --workers N`, set
`PROMETHEUS_MULTIPROC_DIR` to an empty folder: prometheus-client then adds up the processes'
figures from there, and the instrumentator serves the sum (README « Exploitation »).
`/metrics` carries no personal data (routes are templates, never a dossier number); a reverse
proxy in front should still keep it off the public address.
"""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator

# space: candidat | staff; outcome: accepted | refused (wrong login or password) | limited (429).
LOGINS = Counter("inscriptions_logins", "Logins by space and outcome", ["space", "outcome"], registry=None)

# How long requests waited for their turn in the web process (`web.middleware.RequestQueueMiddleware`):
# seconds here on deadline night mean the web processes are the bottleneck (add processes or cores).
QUEUE_WAIT = Histogram(
    "inscriptions_web_queue_seconds",
    "Time requests waited for their turn in the web process",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60),
    registry=None,
)

# Not worth a series each: the metrics themselves, static files, the load balancer's probe.
EXCLUDED = ["/metrics", "/static/.*", "/healthz"]


def install(app: FastAPI) -> None:
    # A registry per app: one app per process in production; the tests build several apps in
    # one process, and each must count its own requests.
    registry = CollectorRegistry()
    registry.register(LOGINS)
    registry.register(QUEUE_WAIT)
    app.state.metrics_registry = registry  # the operators' live view reads it (`ops/live.py`)
    Instrumentator(
        registry=registry,
        should_group_status_codes=False,  # 409 (a refusal) and 503 (Temporal away) say different things
        should_ignore_untemplated=True,  # unknown paths (scanners) would make one series each
        excluded_handlers=EXCLUDED,
    ).instrument(app, latency_lowr_buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30)).expose(
        app, include_in_schema=False
    )


def own_figures(app: FastAPI) -> str:
    """This process's metrics in Prometheus text, as `/metrics` serves them."""
    registry = getattr(app.state, "metrics_registry", None)
    return generate_latest(registry).decode() if registry is not None else ""


def observe_queue_wait(seconds: float) -> None:
    QUEUE_WAIT.observe(seconds)


def count_login(space: str, outcome: str) -> None:
    LOGINS.labels(space=space, outcome=outcome).inc()
