"""Letters rendered in a render process: the file stored is the letter, a render process that dies
is replaced without failing the letter, and a render process does not outlive its worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from activities.rendering import LetterRenderer, render_and_save
from domain.dossier import Dossier
from infra.files import FileStore
from infra.settings import PROJECT_ROOT
from letters.convocation import convocation
from letters.layout import LetterContext
from tests.factories import campaign
from tests.letters.pdf import pdf_lines
from tests.workflows.conftest import registration

NOW = datetime(2026, 10, 27, 15, 30, tzinfo=UTC)


def _convocation_render() -> partial[bytes]:
    c = campaign(now=NOW)
    exam = next(e for e in c.exams if e.code == "ecrit")
    dossier = Dossier.open(registration(c, NOW, last_name="Nguyễn", first_name="Zoë"), NOW)
    return partial(convocation, LetterContext.of(dossier, NOW), exam)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """Alive, not a zombie waiting to be reaped (by whatever adopted it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _pid_of_render_process() -> int:
    return os.getpid()


async def test_a_letter_rendered_in_a_render_process_is_stored_as_printed(tmp_path: Path) -> None:
    files = FileStore(tmp_path)
    stored = await LetterRenderer(1).render_and_save(_convocation_render(), files)
    data = files.read(stored.ref)
    assert stored.size == len(data) and data.startswith(b"%PDF-")
    assert "Zoë NGUYỄN" in pdf_lines(data)


async def test_a_render_process_that_dies_is_replaced_and_the_letter_still_printed(tmp_path: Path) -> None:
    renderer = LetterRenderer(1)
    files = FileStore(tmp_path)
    await renderer.render_and_save(_convocation_render(), files)  # the pool is up
    from activities import rendering

    pool = rendering._pool(1)
    child = pool.submit(_pid_of_render_process).result(timeout=60)
    os.kill(child, signal.SIGKILL)
    stored = await renderer.render_and_save(_convocation_render(), files)
    assert files.read(stored.ref).startswith(b"%PDF-")
    assert rendering._pool(1) is not pool  # a new pool took the broken one's place


CHILD = """
import asyncio, sys
from activities.rendering import LetterRenderer
from activities import rendering
from infra.files import FileStore
from pathlib import Path

async def main():
    files = FileStore(Path(sys.argv[1]))
    await LetterRenderer(1).render_and_save(bytes, files)  # an empty file: the pool is up
    print(rendering._pool(1).submit(__import__("os").getpid).result(), flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def test_a_render_process_leaves_when_its_worker_is_killed(tmp_path: Path) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout is not None
        render_process = int(worker.stdout.readline())
        assert render_process in _children(worker.pid)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        deadline = time.monotonic() + 30
        while _running(render_process) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running(render_process), "the render process outlived its worker"
    finally:
        if worker.poll() is None:
            worker.kill()


def test_rendering_in_a_thread_stores_the_same_letter(tmp_path: Path) -> None:
    files = FileStore(tmp_path)
    stored = render_and_save(_convocation_render(), files)
    assert "Zoë NGUYỄN" in pdf_lines(files.read(stored.ref))


@pytest.fixture(autouse=True, scope="module")
def _no_pool_left_behind() -> object:
    yield
    from activities import rendering

    for processes in list(rendering._pools):
        rendering._discard(processes, rendering._pools[processes])
