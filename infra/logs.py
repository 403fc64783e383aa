"""Logs: one JSON object per line (python-json-logger), with what an operator searches by.

Each line carries `time`, `level`, `logger`, `message`, and when known: `request_id` (a web
request, also sent back as `X-Request-ID`), `dossier` (the dossier number), `staff` (the staff
account of a back-office request), `workflow_type`/`activity_type` (worker lines). The request's
fields come from `LogContext`, which the web's middleware opens and the session dependencies fill
in; worker lines take the dossier from the workflow ID (a dossier's workflow ID is its number)
that the SDK's `workflow.logger` and `activity.logger` attach.

Nothing personal beyond the dossier number goes in: no name, e-mail address, password, token or
link; log messages name dossiers by number only. `INSCRIPTIONS_LOG_FORMAT=text` gives readable
lines instead (a developer's terminal).
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from workflows import names


@dataclass
class LogContext:
    """Mutable on purpose: dependencies fill it in while the middleware that opened it is still
    the one that writes the request's line (Starlette may run them in a copied context)."""

    request_id: str = ""
    dossier: str = ""
    staff: str = ""


CONTEXT: contextvars.ContextVar[LogContext | None] = contextvars.ContextVar("log_context", default=None)


def current() -> LogContext | None:
    return CONTEXT.get()


def note_dossier(number: str) -> None:
    context = CONTEXT.get()
    if context is not None:
        context.dossier = number


def note_staff(login: str) -> None:
    context = CONTEXT.get()
    if context is not None:
        context.staff = login


class ContextFilter(logging.Filter):
    """Adds the request's and the workflow's identifiers to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = CONTEXT.get()
        if context is not None:
            for name in ("request_id", "dossier", "staff"):
                value = getattr(context, name)
                if value and not hasattr(record, name):
                    setattr(record, name, value)
        workflow: dict[str, Any] | None = getattr(record, "temporal_workflow", None)
        activity: dict[str, Any] | None = getattr(record, "temporal_activity", None)
        if workflow:
            record.workflow_type = workflow.get("workflow_type", "")
            if workflow.get("workflow_type") == names.DOSSIER_WORKFLOW:
                record.dossier = workflow.get("workflow_id", "")
        if activity:
            record.activity_type = activity.get("activity_type", "")
            if activity.get("workflow_type") == names.DOSSIER_WORKFLOW:
                record.dossier = activity.get("workflow_id", "")
        return True


# The SDK's dicts are replaced by the two fields above (they hold run IDs and task queues that
# nobody searches by, and the message already ends with them).
_DROPPED = ["temporal_workflow", "temporal_activity", "color_message"]


def formatter() -> logging.Formatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        reserved_attrs=[*RESERVED_ATTRS, *_DROPPED],
    )


def configure(level: int = logging.INFO) -> None:
    """Root logging for a process (web or worker): JSON lines on stderr, uvicorn's loggers
    included; idempotent."""
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("INSCRIPTIONS_LOG_FORMAT", "json") == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(formatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "inscriptions", False)]:
        root.removeHandler(old)
    handler.inscriptions = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn installs its own text handlers; its lines go through ours instead. Its access log
    # (client address, full URL) is replaced by the web's own request line (`web.request_log`).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = name != "uvicorn.access"
