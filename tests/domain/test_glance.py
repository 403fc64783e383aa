"""A campaign's figures: days counted in the organiser's zone, gaps kept, convocations split."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.glance import MAX_DAYS, daily, exam_convocations


def test_days_are_local_and_days_without_anything_are_kept() -> None:
    pre = [datetime(2026, 10, 26, 23, 30, tzinfo=UTC), datetime(2026, 10, 27, 8, 0, tzinfo=UTC)]  # both 27/10 in Paris
    val = [datetime(2026, 10, 29, 9, 0, tzinfo=UTC)]
    days = daily(pre, val, "Europe/Paris")
    assert [(d.day, d.preregistrations, d.validations) for d in days] == [
        (date(2026, 10, 27), 2, 0),
        (date(2026, 10, 28), 0, 0),
        (date(2026, 10, 29), 0, 1),
    ]
    assert daily([], [], "Europe/Paris") == []


def test_a_long_campaign_sums_its_oldest_days_into_the_first_shown() -> None:
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    pre = [start + timedelta(days=i) for i in range(MAX_DAYS + 10)]
    days = daily(pre, [], "Europe/Paris")
    assert len(days) == MAX_DAYS
    assert days[0].preregistrations == 11 and sum(d.preregistrations for d in days) == MAX_DAYS + 10


def test_convocations_show_from_their_release_instant() -> None:
    exam = datetime(2026, 12, 10, 8, tzinfo=UTC)
    lead = timedelta(days=15)
    before = exam_convocations("ecrit", "Écrit", exam, lead, convened=10, deposited=8, now=exam - timedelta(days=20))
    assert (before.released, before.pending, before.release_at) == (0, 10, exam - lead)
    after = exam_convocations("ecrit", "Écrit", exam, lead, convened=10, deposited=8, now=exam - timedelta(days=3))
    assert (after.released, after.pending) == (8, 2)
