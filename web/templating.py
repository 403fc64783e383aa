"""The Jinja2 environment of every server-rendered page (candidate space and staff back office).

Templates live in `web/templates/` (`base.html` is the layout every page extends); filters write
instants the French way, in the organiser's time zone, with the helpers the emails use.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from temporalio.client import WorkflowExecutionStatus

from domain.fr import date_fr, datetime_fr, duration_fr
from web.csrf import csrf_input

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_TIME_ZONE = "Europe/Paris"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
env = templates.env
env.trim_blocks = True
env.lstrip_blocks = True
env.globals["csrf_input"] = csrf_input


def _when(instant: datetime | None, time_zone: str = DEFAULT_TIME_ZONE) -> str:
    """« mardi 27 octobre 2026 à 16h30 »"""
    if instant is not None and instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)  # SQLite gives our UTC instants back naive
    return datetime_fr(instant, time_zone) if instant else ""


def _day(instant: datetime | None, time_zone: str = DEFAULT_TIME_ZONE) -> str:
    return date_fr(instant, time_zone) if instant else ""


def _time_left(instant: datetime, now: datetime) -> str:
    """« 3 jours et 2 h » until `instant`."""
    return duration_fr(instant - now)


def _file_size(size: int) -> str:
    """French units and decimal comma: « 1,2 Mo », « 350 ko »."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")
    if size >= 1024:
        return f"{round(size / 1024)} ko"
    return f"{size} octets"


def _iso(instant: datetime | None) -> str:
    """For <time datetime="...">, which assistive tools and browsers can read."""
    return instant.isoformat(timespec="minutes") if instant else ""


_EXECUTION_LABELS = {
    WorkflowExecutionStatus.RUNNING: "En cours",
    WorkflowExecutionStatus.COMPLETED: "Terminé",
    WorkflowExecutionStatus.FAILED: "En échec",
    WorkflowExecutionStatus.TERMINATED: "Arrêté",
    WorkflowExecutionStatus.CANCELED: "Annulé",
    WorkflowExecutionStatus.CONTINUED_AS_NEW: "En cours",
    WorkflowExecutionStatus.TIMED_OUT: "Expiré",
}


def batch_state(execution_status: WorkflowExecutionStatus | None) -> str:
    """A bulk action's state in words (« En cours », « Terminé »…)."""
    return _EXECUTION_LABELS.get(execution_status, "?") if execution_status else "?"


env.filters.update(batch_state=batch_state, when=_when, day=_day, time_left=_time_left, file_size=_file_size, iso=_iso)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status_code)
