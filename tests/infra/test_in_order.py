"""A surge queues in order: at most N inside at once, the others entering first in, first out."""

from __future__ import annotations

import asyncio

import pytest

from infra.in_order import InOrder


async def test_at_most_the_slots_are_inside_and_waiters_enter_in_arrival_order() -> None:
    limiter = InOrder(2)
    inside: set[int] = set()
    most = 0
    entered: list[int] = []
    release = asyncio.Event()

    async def one(i: int) -> None:
        nonlocal most
        async with limiter:
            entered.append(i)
            inside.add(i)
            most = max(most, len(inside))
            await release.wait()
            inside.discard(i)

    tasks = []
    for i in range(6):
        tasks.append(asyncio.create_task(one(i)))
        await asyncio.sleep(0)  # arrive one after another
    await asyncio.sleep(0)
    assert entered == [0, 1]  # the others wait
    release.set()
    await asyncio.gather(*tasks)
    assert most == 2
    assert entered == [0, 1, 2, 3, 4, 5]


async def test_a_failure_inside_gives_its_slot_back() -> None:
    limiter = InOrder(1)
    with pytest.raises(RuntimeError):
        async with limiter:
            raise RuntimeError("query failed")
    async with asyncio.timeout(1):
        async with limiter:  # would wait forever had the slot been kept
            pass


def test_zero_slots_is_refused_with_its_reason() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        InOrder(0)
