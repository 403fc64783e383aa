"""Working days and local instants in the organiser's time zone.

Pure functions: the workflow calls them with `workflow.now()`, the tests with fixed instants.
Holidays come from the maintained `holidays` package, per French zone: Alsace-Moselle adds Good
Friday and 26 December, each overseas département has its own days (abolition of slavery...).
They are looked up once, when a campaign is saved, and travel with the campaign's snapshot: the
workflow never calls the library, and a later release of it cannot change an open dossier's dates.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

# Holiday zone code -> the `holidays` subdivision of France (None: metropolitan France).
HOLIDAY_ZONES: dict[str, str | None] = {
    "metropole": None,
    "alsace-moselle": "57",
    "guadeloupe": "971",
    "martinique": "972",
    "guyane": "973",
    "reunion": "974",
    "mayotte": "976",
    "saint-pierre-et-miquelon": "PM",
    "saint-barthelemy": "BL",
    "saint-martin": "MF",
    "nouvelle-caledonie": "NC",
    "polynesie-francaise": "PF",
    "wallis-et-futuna": "WF",
}

# The time zone an organiser of each zone usually runs on; a campaign may set its own.
DEFAULT_TIME_ZONES: dict[str, str] = {
    "metropole": "Europe/Paris",
    "alsace-moselle": "Europe/Paris",
    "guadeloupe": "America/Guadeloupe",
    "martinique": "America/Martinique",
    "guyane": "America/Cayenne",
    "reunion": "Indian/Reunion",
    "mayotte": "Indian/Mayotte",
    "saint-pierre-et-miquelon": "America/Miquelon",
    "saint-barthelemy": "America/St_Barthelemy",
    "saint-martin": "America/Marigot",
    "nouvelle-caledonie": "Pacific/Noumea",
    "polynesie-francaise": "Pacific/Tahiti",
    "wallis-et-futuna": "Pacific/Wallis",
}

# "dès le matin du jour ouvré suivant ... à partir de 8h30" (CDG 56 guide).
UPLOADS_REOPEN_AT = time(8, 30)


class UnknownZone(ValueError):
    """A holiday zone or time zone that this calendar does not know."""


def public_holidays(zone: str, years: Iterable[int]) -> list[date]:
    """The public holidays of a French zone over the given years, sorted."""
    if zone not in HOLIDAY_ZONES:
        raise UnknownZone(f"unknown holiday zone {zone!r}; known: {', '.join(HOLIDAY_ZONES)}")
    found = holidays.country_holidays("FR", subdiv=HOLIDAY_ZONES[zone], years=list(years))
    return sorted(found.keys())


def check_time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError on odd names
        raise UnknownZone(f"unknown time zone {name!r}") from exc


def is_working_day(day: date, holidays_: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays_


def next_working_day(day: date, holidays_: Collection[date]) -> date:
    """The first working day strictly after `day`."""
    candidate = day + timedelta(days=1)
    while not is_working_day(candidate, holidays_):
        candidate += timedelta(days=1)
    return candidate


def local_instant(day: date, at: time, time_zone: str) -> datetime:
    """`day` at wall-clock `at` in `time_zone`, as an aware datetime (correct across DST)."""
    return datetime.combine(day, at, tzinfo=check_time_zone(time_zone))


def to_local(instant: datetime, time_zone: str) -> datetime:
    return instant.astimezone(check_time_zone(time_zone))


def uploads_reopen_at(validated_at: datetime, time_zone: str, holidays_: Collection[date]) -> datetime:
    """When the space takes uploads again after a validation: 8:30 on the next working day.

    The seed's examples: validated Tuesday 27 October 16:30 -> Wednesday 28 October 8:30;
    validated Friday 6 November 9:00 -> Monday 9 November 8:30.
    """
    local_day = to_local(validated_at, time_zone).date()
    return local_instant(next_working_day(local_day, holidays_), UPLOADS_REOPEN_AT, time_zone)
