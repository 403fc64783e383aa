"""French wording of dates, as the guides write them ("mardi 27 octobre 2026 à 16h30").

Twelve month names do not warrant a locale library, and this runs inside the workflow sandbox,
where locale data loaded from files is best avoided.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.calendar import to_local

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def date_fr(instant: datetime, time_zone: str) -> str:
    local = to_local(instant, time_zone)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{_DAYS[local.weekday()]} {day} {_MONTHS[local.month - 1]} {local.year}"


def datetime_fr(instant: datetime, time_zone: str) -> str:
    local = to_local(instant, time_zone)
    return f"{date_fr(instant, time_zone)} à {local.hour}h{local.minute:02d}"


def duration_fr(delta: timedelta) -> str:
    """A remaining time, coarse as a person reads it: "3 jours", "5 heures", "12 minutes"."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} jour{'s' if days > 1 else ''}" + (f" et {hours} h" if hours else "")
    if hours:
        return f"{hours} heure{'s' if hours > 1 else ''}" + (f" {minutes} min" if minutes else "")
    return f"{minutes} minute{'s' if minutes > 1 else ''}" if minutes else "moins d'une minute"
