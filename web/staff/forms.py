"""Small helpers shared by the back-office forms: local date-times, lists typed in a box."""

from __future__ import annotations

import re
from datetime import datetime

from domain.calendar import check_time_zone, to_local


class FormError(ValueError):
    """A field that cannot be read; the French message is shown above the form."""


def parse_local(value: str, time_zone: str, label: str) -> datetime:
    """A `datetime-local` field ("2027-01-15T17:00"), read in the campaign's time zone."""
    value = (value or "").strip()
    if not value:
        raise FormError(f"{label} : indiquez une date et une heure.")
    try:
        naive = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        raise FormError(f"{label} : « {value} » n'est pas une date et heure (AAAA-MM-JJ HH:MM).") from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=check_time_zone(time_zone))


def local_input(instant: datetime | None, time_zone: str) -> str:
    """The value of a `datetime-local` field for `instant`, in the campaign's time zone."""
    if instant is None:
        return ""
    return to_local(instant, time_zone).strftime("%Y-%m-%dT%H:%M")


def words(text: str) -> list[str]:
    return [w for w in re.split(r"[,;\s]+", text or "") if w]
