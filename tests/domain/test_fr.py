"""Dates and durations in French, as the guides write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.fr import date_fr, datetime_fr, duration_fr

PARIS = ZoneInfo("Europe/Paris")


def test_datetime_fr_writes_a_paris_instant_as_the_guide_does():
    instant = datetime(2026, 10, 27, 16, 30, tzinfo=PARIS).astimezone(UTC)
    assert datetime_fr(instant, "Europe/Paris") == "mardi 27 octobre 2026 à 16h30"


def test_datetime_fr_does_not_pad_the_hour_but_pads_the_minutes():
    assert datetime_fr(datetime(2026, 10, 28, 8, 30, tzinfo=PARIS), "Europe/Paris") == (
        "mercredi 28 octobre 2026 à 8h30"
    )
    assert datetime_fr(datetime(2026, 11, 9, 9, 5, tzinfo=PARIS), "Europe/Paris") == ("lundi 9 novembre 2026 à 9h05")


def test_datetime_fr_uses_the_given_time_zone():
    instant = datetime(2026, 11, 9, 21, 0, tzinfo=UTC)
    assert datetime_fr(instant, "Europe/Paris") == "lundi 9 novembre 2026 à 22h00"
    assert datetime_fr(instant, "Indian/Reunion") == "mardi 10 novembre 2026 à 1h00"


def test_datetime_fr_follows_summer_time():
    instant = datetime(2026, 7, 14, 8, 0, tzinfo=UTC)
    assert datetime_fr(instant, "Europe/Paris") == "mardi 14 juillet 2026 à 10h00"


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (datetime(2026, 2, 16, 12, tzinfo=PARIS), "lundi 16 février 2026"),
        (datetime(2026, 8, 15, 12, tzinfo=PARIS), "samedi 15 août 2026"),
        (datetime(2026, 12, 20, 12, tzinfo=PARIS), "dimanche 20 décembre 2026"),
        (datetime(2027, 1, 13, 12, tzinfo=PARIS), "mercredi 13 janvier 2027"),
    ],
)
def test_date_fr_names_days_and_months_with_their_accents(day: datetime, text: str):
    assert date_fr(day, "Europe/Paris") == text


def test_the_first_of_the_month_is_written_1er():
    assert date_fr(datetime(2026, 11, 1, 12, tzinfo=PARIS), "Europe/Paris") == ("dimanche 1er novembre 2026")


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=3), "3 jours"),
        (timedelta(days=1), "1 jour"),
        (timedelta(days=1, hours=5, minutes=40), "1 jour et 5 h"),
        (timedelta(hours=5), "5 heures"),
        (timedelta(hours=1, minutes=12), "1 heure 12 min"),
        (timedelta(minutes=12), "12 minutes"),
        (timedelta(minutes=1, seconds=59), "1 minute"),
        (timedelta(seconds=30), "moins d'une minute"),
        (timedelta(0), "moins d'une minute"),
        (timedelta(hours=-2), "moins d'une minute"),
    ],
)
def test_duration_fr_reads_a_remaining_time_coarsely(delta: timedelta, text: str):
    assert duration_fr(delta) == text
