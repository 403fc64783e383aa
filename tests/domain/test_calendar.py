"""Working days and the instant uploads reopen after a validation (8:30, next working day)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import (
    UnknownZone,
    check_time_zone,
    is_working_day,
    next_working_day,
    public_holidays,
    uploads_reopen_at,
)

YEARS = range(2024, 2029)
HOLIDAYS = {zone: public_holidays(zone, YEARS) for zone in ("metropole", "alsace-moselle", "reunion", "guadeloupe")}


def at(tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock instant in `tz`, handed over in UTC as the workflow's clock gives it."""
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return at("Europe/Paris", year, month, day, hour, minute, second)


def reopen(validated_at: datetime, zone: str = "metropole", tz: str = "Europe/Paris") -> datetime:
    return uploads_reopen_at(validated_at, tz, HOLIDAYS[zone])


def local_wall_clock(instant: datetime, tz: str) -> tuple[date, int, int]:
    local = instant.astimezone(ZoneInfo(tz))
    return local.date(), local.hour, local.minute


# ----------------------------------------------------------------- the seed's examples
def test_seed_example_validated_tuesday_27_october_at_16h30_opens_wednesday_28_october_at_8h30():
    assert reopen(paris(2026, 10, 27, 16, 30)) == paris(2026, 10, 28, 8, 30)


def test_seed_example_validated_friday_6_november_at_9h00_opens_monday_9_november_at_8h30():
    assert reopen(paris(2026, 11, 6, 9, 0)) == paris(2026, 11, 9, 8, 30)


def test_the_reopening_instant_is_expressed_in_the_organisers_time_zone():
    opened = reopen(paris(2026, 10, 27, 16, 30))
    assert opened.tzinfo == ZoneInfo("Europe/Paris")
    assert (opened.hour, opened.minute) == (8, 30)


# ----------------------------------------------------------------- holidays and weekends
def test_validation_on_the_eve_of_armistice_day_opens_the_day_after_the_holiday():
    # 11 November 2026 is a Wednesday.
    assert reopen(paris(2026, 11, 10, 14, 0)) == paris(2026, 11, 12, 8, 30)


def test_validation_before_a_friday_holiday_and_a_weekend_opens_the_monday():
    # Friday 1 May 2026 (fête du Travail), then the weekend.
    assert reopen(paris(2026, 4, 30, 11, 0)) == paris(2026, 5, 4, 8, 30)


def test_validation_before_a_weekend_and_a_monday_holiday_opens_the_tuesday():
    # Friday 22 May 2026, then the weekend, then Whit Monday 25 May.
    assert reopen(paris(2026, 5, 22, 10, 0)) == paris(2026, 5, 26, 8, 30)


def test_a_bridge_day_between_a_holiday_and_a_weekend_is_a_working_day():
    # Ascension is Thursday 14 May 2026; Friday 15 May is an ordinary working day.
    assert reopen(paris(2026, 5, 13, 10, 0)) == paris(2026, 5, 15, 8, 30)


def test_validation_on_a_saturday_or_a_sunday_opens_the_monday():
    assert reopen(paris(2026, 10, 31, 10, 0)) == paris(2026, 11, 2, 8, 30)
    # Sunday 1 November is both a Sunday and a holiday (Toussaint).
    assert reopen(paris(2026, 11, 1, 10, 0)) == paris(2026, 11, 2, 8, 30)


def test_validation_on_a_holiday_opens_the_next_working_day():
    # Validated on Armistice day itself.
    assert reopen(paris(2026, 11, 11, 10, 0)) == paris(2026, 11, 12, 8, 30)


# ----------------------------------------------------------------- the day of validation
def test_validation_one_second_before_midnight_opens_the_next_working_day_not_the_one_after():
    assert reopen(paris(2026, 10, 27, 23, 59, 59)) == paris(2026, 10, 28, 8, 30)


def test_validation_just_after_midnight_waits_for_the_following_working_day():
    # "dès le matin du jour ouvré suivant le jour où vous avez validé": the day is Wednesday 28.
    assert reopen(paris(2026, 10, 28, 0, 5)) == paris(2026, 10, 29, 8, 30)


def test_validation_before_half_past_eight_still_waits_for_the_next_working_day():
    assert reopen(paris(2026, 10, 28, 7, 0)) == paris(2026, 10, 29, 8, 30)


def test_the_day_of_validation_is_the_organisers_local_day_not_the_utc_day():
    # Tuesday 27 October 00:30 in Paris is still Monday 26 October 23:30 in UTC.
    validated = paris(2026, 10, 27, 0, 30)
    assert validated.date() == date(2026, 10, 26)
    assert reopen(validated) == paris(2026, 10, 28, 8, 30)


# ----------------------------------------------------------------- Alsace-Moselle
def test_good_friday_and_26_december_are_holidays_only_in_alsace_moselle():
    metropole = public_holidays("metropole", [2026])
    alsace = public_holidays("alsace-moselle", [2026])
    for day in (date(2026, 4, 3), date(2026, 12, 26)):
        assert day in alsace
        assert day not in metropole
    # The national days hold in both.
    for day in (date(2026, 4, 6), date(2026, 7, 14), date(2026, 12, 25)):
        assert day in alsace and day in metropole


def test_public_holidays_are_sorted_and_cover_only_the_asked_years():
    days = public_holidays("metropole", [2026, 2027])
    assert days == sorted(days)
    assert {d.year for d in days} == {2026, 2027}
    assert date(2026, 1, 1) in days and date(2027, 12, 25) in days


def test_easter_in_alsace_moselle_chains_good_friday_the_weekend_and_easter_monday():
    validated = paris(2026, 4, 2, 15, 0)  # Thursday before Good Friday
    assert reopen(validated, "metropole") == paris(2026, 4, 3, 8, 30)
    assert reopen(validated, "alsace-moselle") == paris(2026, 4, 7, 8, 30)


def test_christmas_in_alsace_moselle_chains_25_and_26_december_and_the_weekend():
    validated = paris(2025, 12, 24, 10, 0)  # Wednesday; 25 is Thursday, 26 is Friday
    assert reopen(validated, "metropole") == paris(2025, 12, 26, 8, 30)
    assert reopen(validated, "alsace-moselle") == paris(2025, 12, 29, 8, 30)


# ----------------------------------------------------------------- overseas
def test_reunion_has_the_abolition_of_slavery_on_20_december_and_metropole_does_not():
    assert date(2027, 12, 20) in public_holidays("reunion", [2027])
    assert date(2027, 12, 20) not in public_holidays("metropole", [2027])


def test_guadeloupe_has_the_abolition_of_slavery_on_27_may_and_metropole_does_not():
    assert date(2026, 5, 27) in public_holidays("guadeloupe", [2026])
    assert date(2026, 5, 27) not in public_holidays("metropole", [2026])


def test_reunion_opens_at_8h30_reunion_time_which_is_4h30_utc():
    # Friday 17 December 2027, weekend, Monday 20 December (abolition of slavery).
    validated = at("Indian/Reunion", 2027, 12, 17, 16, 0)
    opened = reopen(validated, "reunion", "Indian/Reunion")
    assert opened == datetime(2027, 12, 21, 4, 30, tzinfo=UTC)
    assert local_wall_clock(opened, "Indian/Reunion") == (date(2027, 12, 21), 8, 30)
    assert opened.utcoffset() == timedelta(hours=4)


def test_guadeloupe_opens_after_27_may_at_8h30_local_time():
    validated = at("America/Guadeloupe", 2026, 5, 26, 10, 0)  # Tuesday
    opened = reopen(validated, "guadeloupe", "America/Guadeloupe")
    assert opened == datetime(2026, 5, 28, 12, 30, tzinfo=UTC)  # UTC-4
    # The same instant in metropolitan France opens on the Wednesday.
    assert reopen(validated) == paris(2026, 5, 27, 8, 30)


def test_one_instant_falls_on_different_local_days_in_paris_and_in_reunion():
    # Monday 9 November 2026 21:00 UTC: Monday 22:00 in Paris, Tuesday 01:00 in Réunion.
    validated = datetime(2026, 11, 9, 21, 0, tzinfo=UTC)
    assert reopen(validated) == paris(2026, 11, 10, 8, 30)
    # In Réunion the day is Tuesday 10, and 11 November is a holiday there too.
    assert reopen(validated, "reunion", "Indian/Reunion") == at("Indian/Reunion", 2026, 11, 12, 8, 30)


# ----------------------------------------------------------------- daylight saving time
def test_across_the_switch_to_summer_time_uploads_open_at_8h30_summer_time():
    # Friday 27 March 2026 (winter time); summer time starts Sunday 29 March.
    validated = paris(2026, 3, 27, 10, 0)
    assert validated.astimezone(ZoneInfo("Europe/Paris")).utcoffset() == timedelta(hours=1)
    opened = reopen(validated)
    assert opened.utcoffset() == timedelta(hours=2)
    assert opened.isoformat() == "2026-03-30T08:30:00+02:00"
    assert opened == datetime(2026, 3, 30, 6, 30, tzinfo=UTC)


def test_a_validation_on_the_night_summer_time_starts_opens_monday_at_8h30():
    validated = paris(2026, 3, 29, 3, 30)  # one hour after clocks went forward
    assert reopen(validated) == datetime(2026, 3, 30, 6, 30, tzinfo=UTC)


def test_across_the_switch_to_winter_time_uploads_open_at_8h30_winter_time():
    # Saturday 24 October 2026 (summer time); winter time starts Sunday 25 October.
    validated = paris(2026, 10, 24, 10, 0)
    assert validated.astimezone(ZoneInfo("Europe/Paris")).utcoffset() == timedelta(hours=2)
    opened = reopen(validated)
    assert opened.utcoffset() == timedelta(hours=1)
    assert opened.isoformat() == "2026-10-26T08:30:00+01:00"
    assert opened == datetime(2026, 10, 26, 7, 30, tzinfo=UTC)


def test_a_validation_during_the_repeated_hour_of_the_switch_to_winter_time_opens_monday():
    # 02:30 happens twice on 25 October 2026; both are on Sunday.
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    for validated in (first, second):
        assert reopen(validated) == datetime(2026, 10, 26, 7, 30, tzinfo=UTC)


# ----------------------------------------------------------------- working days
def test_weekends_and_holidays_are_not_working_days():
    holidays_ = HOLIDAYS["metropole"]
    assert is_working_day(date(2026, 10, 27), holidays_)  # Tuesday
    assert not is_working_day(date(2026, 10, 31), holidays_)  # Saturday
    assert not is_working_day(date(2026, 11, 1), holidays_)  # Sunday
    assert not is_working_day(date(2026, 11, 11), holidays_)  # Wednesday, Armistice


def test_the_next_working_day_is_strictly_after_the_given_day():
    holidays_ = HOLIDAYS["metropole"]
    assert next_working_day(date(2026, 10, 27), holidays_) == date(2026, 10, 28)
    assert next_working_day(date(2026, 11, 10), holidays_) == date(2026, 11, 12)
    assert next_working_day(date(2026, 12, 24), holidays_) == date(2026, 12, 28)


# ----------------------------------------------------------------- unknown zones
def test_an_unknown_holiday_zone_is_refused():
    with pytest.raises(UnknownZone, match="paris"):
        public_holidays("paris", [2026])


@pytest.mark.parametrize("name", ["Europe/Vannes", "Mars/Olympus", "", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused(name: str):
    with pytest.raises(UnknownZone):
        check_time_zone(name)


def test_uploads_reopen_at_refuses_an_unknown_time_zone():
    with pytest.raises(UnknownZone):
        uploads_reopen_at(paris(2026, 10, 27, 16, 30), "Europe/Vannes", HOLIDAYS["metropole"])
