"""A campaign at a glance: the figures its page shows, computed from what visibility and the
letters' records give (pure: no I/O, instants passed in)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 120  # a chart and a table stay readable; older days are summed into the first one


@dataclass
class Day:
    day: date
    preregistrations: int
    validations: int


def daily(preregistrations: Iterable[datetime], validations: Iterable[datetime], time_zone: str) -> list[Day]:
    """Counts per local day, every day from the first to the last one (days without any
    included, so a chart's gaps are real), at most MAX_DAYS."""
    zone = ZoneInfo(time_zone)
    pre = Counter(at.astimezone(zone).date() for at in preregistrations)
    val = Counter(at.astimezone(zone).date() for at in validations)
    days = sorted(set(pre) | set(val))
    if not days:
        return []
    first, last = days[0], days[-1]
    if (last - first).days >= MAX_DAYS:
        cut = last - timedelta(days=MAX_DAYS - 1)
        for counter in (pre, val):
            counter[cut] += sum(n for d, n in counter.items() if d < cut)
        first = cut
    return [
        Day(first + timedelta(days=i), pre[first + timedelta(days=i)], val[first + timedelta(days=i)])
        for i in range((last - first).days + 1)
    ]


@dataclass
class ExamConvocations:
    code: str
    label: str
    starts_at: datetime
    release_at: datetime  # when deposited convocations become visible to candidates
    convened: int  # candidates whose status convenes them to this exam
    deposited: int  # convocations printed and deposited in their dossiers
    released: int  # visible to candidates now
    pending: int  # convened candidates who cannot see theirs yet (not deposited, or not released)


def exam_convocations(
    code: str, label: str, starts_at: datetime, lead: timedelta, convened: int, deposited: int, now: datetime
) -> ExamConvocations:
    """A deposited convocation shows from `starts_at - lead` (or at once when deposited later)."""
    release_at = starts_at - lead
    released = deposited if now >= release_at else 0
    return ExamConvocations(
        code, label, starts_at, release_at, convened, deposited, released, max(0, convened - released)
    )
