"""A campaign's data is kept for its retention period after its last result, then purged."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.campaign import CampaignError
from domain.retention import DEFAULT_RETENTION, campaign_end, purge_due_at, retention_fr
from tests.factories import campaign


def test_a_campaign_keeps_data_two_years_after_its_last_exam_by_default() -> None:
    c = campaign()
    assert c.retention == DEFAULT_RETENTION == timedelta(days=730)
    last_exam = max(e.starts_at for e in c.exams)
    assert campaign_end(c) == last_exam
    assert purge_due_at(c, None) == last_exam + timedelta(days=730)


def test_a_result_recorded_after_the_last_exam_moves_the_purge_later() -> None:
    c = campaign()
    results = max(e.starts_at for e in c.exams) + timedelta(days=40)
    assert purge_due_at(c, results) == results + c.retention
    # An event before the campaign's end does not bring the purge forward.
    assert purge_due_at(c, c.registration_opens_at) == campaign_end(c) + c.retention


def test_without_exams_the_upload_period_ends_the_campaign() -> None:
    c = campaign(exams=[])
    assert campaign_end(c) == c.validation_deadline + c.upload_grace


def test_a_retention_shorter_than_the_appeal_window_is_refused() -> None:
    c = campaign(retention=timedelta(days=30))
    with pytest.raises(CampaignError, match="92 jours"):
        c.check()


def test_retention_in_words() -> None:
    assert retention_fr(timedelta(days=730)) == "2 ans"
    assert retention_fr(timedelta(days=365)) == "1 an"
    assert retention_fr(timedelta(days=540)) == "18 mois"
    assert retention_fr(timedelta(days=100)) == "100 jours"
