"""Which campaigns the live view details: the few whose deadline is nearest, the others as links
(each detailed campaign costs a visibility count per status at every refresh)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ops.live import MOST_SHOWN, current_campaigns, most_pressing
from tests.factories import campaign


def test_the_campaigns_nearest_their_deadline_are_detailed_the_others_linked() -> None:
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    deadlines = [timedelta(days=d) for d in (9, 1, 30, 4, 2, 12, 7, 20)]
    campaigns = [campaign(now=now, deadline_in=d) for d in deadlines]
    current = current_campaigns(campaigns, now)
    assert len(current) == len(campaigns) > MOST_SHOWN

    shown, others = most_pressing(current, now)

    assert [c.validation_deadline - now for c in shown] == sorted(deadlines)[:MOST_SHOWN]
    assert {c.id for c in others} == {c.id for c in campaigns} - {c.id for c in shown}


def test_a_campaign_whose_deadline_just_passed_comes_first() -> None:
    """Deadline night goes on after the deadline (late uploads, cancellations)."""
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    passed = campaign(now=now - timedelta(days=10, hours=1), deadline_in=timedelta(days=10))
    later = [campaign(now=now, deadline_in=timedelta(days=d)) for d in range(1, MOST_SHOWN + 1)]
    shown, others = most_pressing(current_campaigns([*later, passed], now), now)
    assert shown[0].id == passed.id
    assert others == [later[-1]]
