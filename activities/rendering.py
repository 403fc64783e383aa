"""Letters rendered and stored in a process of their own, so that printing does not hold the
worker's interpreter lock.

A convocation is ~14 ms of pure-Python CPU (fpdf2). Rendered in threads of the worker, it
competes for the lock with the event loop that sends a batch's queries and updates, heartbeats,
and runs the dossiers' workflow tasks. Measured (`bench.bulk_convocations --dossiers 300`, quiet
machine, load under 2): 23.9 convocations a second with rendering in threads, the batch worker
stuck at 0.65 of a core; 32.4 a second with one render process, and less CPU per convocation
(the threads' contention for the lock was work too).

One pool per worker process (`Settings.letter_processes` processes; 0 renders in a thread as
before), started with the worker (`LetterRenderer.start`) or else at the first letter. Its
processes are started with "spawn", not "fork" (the worker runs the SDK's threads, which a fork
would copy half-way), and leave by themselves when their worker is gone (a SIGKILLed worker
leaves none behind). A process that dies (out of
memory) breaks the pool: a new pool is made and the letter tried once more there; a second
failure fails the activity, which Temporal retries. The work a process does is the letter's
`render` (a picklable `functools.partial`), then `FileStore.save` (the fsync included): only
the file's reference, size and checksum come back, not the PDF.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from infra.files import FileStore

_lock = threading.Lock()
_pools: dict[int, ProcessPoolExecutor] = {}


@dataclass(frozen=True)
class Stored:
    ref: str
    size: int
    sha256: str


def render_and_save(render: Callable[[], bytes], files: FileStore) -> Stored:
    """The whole job, in whichever process or thread runs it."""
    data = render()
    ref, sha256 = files.save(data)
    return Stored(ref, len(data), sha256)


class LetterRenderer:
    def __init__(self, processes: int = 0) -> None:
        self.processes = processes

    def start(self) -> None:
        """Start the render processes now (a worker at its start), not at the first letter:
        they import the letters' code, a few seconds of CPU a bulk action need not wait for."""
        if self.processes > 0:
            _pool(self.processes).submit(int)

    async def render_and_save(self, render: Callable[[], bytes], files: FileStore) -> Stored:
        if self.processes <= 0:
            return await asyncio.to_thread(render_and_save, render, files)
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = _pool(self.processes)
            try:
                return await loop.run_in_executor(pool, render_and_save, render, files)
            except BrokenProcessPool:
                _discard(self.processes, pool)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _pool(processes: int) -> ProcessPoolExecutor:
    with _lock:
        pool = _pools.get(processes)
        if pool is None:
            pool = _pools[processes] = ProcessPoolExecutor(
                processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_leave_with_parent,
                initargs=(os.getpid(),),
            )
        return pool


def _discard(processes: int, pool: ProcessPoolExecutor) -> None:
    with _lock:
        if _pools.get(processes) is pool:
            del _pools[processes]
    pool.shutdown(wait=False, cancel_futures=True)


def _leave_with_parent(parent: int) -> None:
    """In a render process: end it once the worker that started it is gone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="leave-with-parent", daemon=True).start()
