"""At most N of something at once in this process, the others waiting in arrival order.

Used where a surge must queue instead of thrash: password hashes (`web.security.HASHES`: more at
once than cores only slows each one) and dossier queries (`workflows.client.WorkflowClient`: a
query the server gives up on after 30 s is still computed by the worker, so a backlog held there
wastes the capacity it lacks, while one held here costs nothing).
"""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType


class InOrder:
    """`async with limiter:` enters once fewer than `slots` are inside; waiters enter first in,
    first out (asyncio's semaphore wakes them in order).

    One semaphore per event loop: a semaphore belongs to the loop it first waited on, and a
    process may run several loops (the tests, the tools)."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"at least one slot is needed, not {slots}")
        self.slots = slots
        self.waiting = 0  # callers waiting for their turn now
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.slots)
        return semaphore

    async def __aenter__(self) -> None:
        self.waiting += 1
        try:
            await self._semaphore().acquire()
        finally:
            self.waiting -= 1

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._semaphore().release()
