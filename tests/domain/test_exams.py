"""The one mapping between exam kinds, results and statuses (`domain.exams`)."""

from __future__ import annotations

import pytest

from domain.campaign import ExamKind
from domain.exams import RESULTS_FROM, ExamResult, convened_statuses, is_convened, may_sit, result_of
from domain.status import Status


def test_written_results_conclude_the_written_tests_and_oral_results_the_orals():
    assert ExamResult.ADMISSIBLE.stage is ExamKind.WRITTEN
    assert ExamResult.NOT_ADMISSIBLE.stage is ExamKind.WRITTEN
    assert ExamResult.PASSED.stage is ExamKind.ORAL
    assert ExamResult.FAILED.stage is ExamKind.ORAL


def test_admitted_candidates_are_convened_to_the_written_tests_and_admissible_ones_to_the_orals():
    assert convened_statuses(ExamKind.WRITTEN) == [Status.ADMITTED, Status.ADMITTED_UNDER_RESERVE]
    assert convened_statuses(ExamKind.ORAL) == [Status.ADMISSIBLE]
    assert is_convened(Status.ADMITTED_UNDER_RESERVE, ExamKind.WRITTEN)
    assert not is_convened(Status.ADMISSIBLE, ExamKind.WRITTEN)
    assert not is_convened(Status.COMPLETE, ExamKind.ORAL)


@pytest.mark.parametrize("result", list(ExamResult), ids=str)
def test_a_result_is_recorded_for_those_convened_to_its_stage_and_becomes_their_status(result):
    assert RESULTS_FROM[result] == set(convened_statuses(result.stage))
    assert result_of(result.status) is result


@pytest.mark.parametrize("status", [s for s in Status if s not in {r.status for r in ExamResult}], ids=str)
def test_other_statuses_record_no_result(status):
    assert result_of(status) is None


def test_only_candidates_who_reached_the_orals_may_sit_them_and_closed_dossiers_sit_nothing():
    assert may_sit(Status.ADMITTED, ExamKind.WRITTEN)
    assert not may_sit(Status.ADMITTED, ExamKind.ORAL)
    assert may_sit(Status.ADMISSIBLE, ExamKind.ORAL)
    assert may_sit(Status.PASSED, ExamKind.ORAL)
    assert not may_sit(Status.WITHDRAWN, ExamKind.WRITTEN)
    assert not may_sit(Status.REJECTED, None)
