"""A mark out of 20 reads the same wherever it was typed: the back office or a jury's file."""

from __future__ import annotations

import pytest

from domain.marks import MarkOutOfRange, UnreadableMark, parse_mark


@pytest.mark.parametrize(
    ("raw", "mark"),
    [
        ("12", 12.0),
        ("12,5", 12.5),
        ("12.5", 12.5),
        (" 13,25 ", 13.25),
        ("0", 0.0),
        ("20", 20.0),
        ("20,00", 20.0),
        ("12,5/20", 12.5),
        ("12,5 / 20", 12.5),
        ("+7", 7.0),
    ],
)
def test_a_mark_is_a_number_from_0_to_20_with_a_comma_or_a_dot(raw: str, mark: float) -> None:
    assert parse_mark(raw) == mark


@pytest.mark.parametrize("raw", ["ABS", "abs", "Abs.", "absent", "Absente", "ABSENT(E)", "absence", " ABS "])
def test_an_absence_is_no_mark(raw: str) -> None:
    assert parse_mark(raw) is None


@pytest.mark.parametrize(
    "raw", ["", "  ", "douze", "12,5,1", "1e1", "nan", "inf", "12 abs", "abstention", "12/10", ",5"]
)
def test_anything_else_is_unreadable(raw: str) -> None:
    with pytest.raises(UnreadableMark) as refused:
        parse_mark(raw)
    assert refused.value.raw == raw


@pytest.mark.parametrize("raw", ["-1", "20,01", "25", "100/20"])
def test_a_number_outside_0_to_20_is_out_of_range(raw: str) -> None:
    with pytest.raises(MarkOutOfRange):
        parse_mark(raw)
