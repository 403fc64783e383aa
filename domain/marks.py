"""Marks out of 20, as a jury's minutes give them: one rule for every way they reach us.

The back office types them (« épreuve ; note » lines) and a jury's results file carries them
(one column per test); both read a mark with `parse_mark`, so « 12,5 » means the same there and
here. Accepted: a number from 0 to 20 with a comma or a dot for decimals, optionally followed by
« /20 » (« 12,5 », « 12.5 », « 12,5 / 20 »), or an absence (« ABS », « abs. », « absent »,
« Absente », « absent(e) », « absence »).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_MARK = 20.0

# A sign is read so that « -1 » is refused as out of range, not as unreadable.
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_OUT_OF_20 = re.compile(r"\s*/\s*20$")
_ABSENT = {"abs", "absent", "absente", "absence"}


@dataclass
class Mark:
    test: str  # the test's name, as the jury's minutes give it
    mark: float | None  # out of 20; None when the candidate was absent


class BadMark(ValueError):
    """A mark that cannot be recorded; each reader words it for where it was typed."""

    def __init__(self, raw: str) -> None:
        super().__init__(raw)
        self.raw = raw


class UnreadableMark(BadMark):
    """Neither a number nor an absence."""


class MarkOutOfRange(BadMark):
    """A number outside 0 to 20."""


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())  # digits kept: « 12 abs » is no absence


def parse_mark(raw: str) -> float | None:
    """The mark out of 20 that `raw` gives, None for an absence; BadMark otherwise."""
    text = raw.strip()
    if _fold(text) in _ABSENT:
        return None
    number = _OUT_OF_20.sub("", text)
    if not _NUMBER.match(number):
        raise UnreadableMark(raw)
    value = float(number.replace(",", "."))
    if not 0 <= value <= MAX_MARK:
        raise MarkOutOfRange(raw)
    return value
