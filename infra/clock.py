"""The wall clock, for everything outside workflows (which read `workflow.now()`): aware, in UTC.

Domain rules never read it: they take the instant as an argument, so tests pass any instant.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
