"""The stack the bulk-action benchmarks run (`bench.bulk_admit`, `bench.bulk_convocations`), and
the figures they print besides their own.

All on 127.0.0.1, thrown away at the end:
- a local Temporal dev server (in memory, the project's search attributes), as the tests start it;
- the development SMTP sink in this process: every email really goes out over SMTP;
- the production worker (`bench.worker_process`, hence `worker.build_worker`) in its own process,
  on its own task queue: it runs the `BatchWorkflow` and its activities;
- a prompt-instruction worker (`python -m devtools.prompt_instruction`) in another process, for
  the dossiers: the real dossier workflow, started already at the status the batch needs (on the
  dev server a validated dossier only goes under instruction at 8:30 on the next working day),
  with the production worker's cache of workflows (`--dossier-cache`, default 1,000). Before the
  batch it is replaced by a new one, its cache empty (`--warm` keeps it): at 10,000 dossiers nine
  in ten of those a batch touches are not in a 1,000 cache and are replayed from their history,
  so a run of a few hundred costs per dossier what a run of 10,000 does.

Figures: the load (`uptime`) before and after; the CPU each process used during the batch; the
dossier worker's workflow task latencies during the batch, read from a sample of histories; the
warnings of the workers' logs. With BENCH_PYSPY=DIR (py-spy installed), each worker's stacks
during the batch are recorded there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from bench.common import (
    free_port,
    log_problems,
    machine_busy_seconds,
    migrate,
    record_stacks,
    seconds_summary,
    start_dev_server,
)
from devtools.mail_sink import MailSink
from devtools.mail_sink import start as start_mail_sink
from devtools.prompt_instruction import dossiers_at
from domain.campaign import Campaign
from domain.status import Status
from infra.settings import PROJECT_ROOT, Settings
from workflows import names
from workflows.batch import BatchRequest

BATCH_QUEUE = "bench-batch"
DOSSIER_QUEUE = "bench-dossiers"


def spawn(module: str, env: dict[str, str], task_queue: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", module],
        cwd=PROJECT_ROOT,
        env={**env, "INSCRIPTIONS_TASK_QUEUE": task_queue},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


async def wait_for_pollers(client: Client, task_queue: str, timeout: float = 300, pid: int | None = None) -> None:
    """Until a worker polls `task_queue` (with `pid`, that process: the server lists the pollers
    seen in the last minutes, a stopped worker's too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        if any(pid is None or p.identity.startswith(f"{pid}@") for p in response.pollers):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"no worker polled {task_queue} within {timeout:.0f} s")


# --------------------------------------------------------------------------- CPU per process tree
def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_cpu_seconds(pid: int, children: bool = True) -> float:
    """CPU time of a process and of its children, live (e.g. a pool of letter renderers) or
    ended and waited for; 0 once the process itself is gone."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    if not children:
        return (int(fields[11]) + int(fields[12])) / tick  # utime stime
    total = sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                child = _stat(int(entry.name))
            except OSError:
                continue
            if int(child[1]) == pid:
                total += tree_cpu_seconds(int(entry.name))
    return total


@dataclass
class CpuPhase:
    """CPU used over a phase by named process trees, and by every other process of the machine
    (other people's work on a shared machine shows there)."""

    pids: dict[str, int]
    wall0: float = field(default_factory=time.monotonic)
    start: dict[str, float] = field(default_factory=dict)
    busy0: float = field(default_factory=machine_busy_seconds)
    ended: dict[str, float] = field(default_factory=dict)  # CPU of processes replaced meanwhile

    def __post_init__(self) -> None:
        self.start = {name: self._cpu(name, pid) for name, pid in self.pids.items()}

    def _cpu(self, name: str, pid: int) -> float:
        # The workers' trees (a pool of renderers), but not this process's: its children are
        # the other processes measured.
        return tree_cpu_seconds(pid, children="worker" in name)

    def replace(self, name: str, pid: int, used_by_old: float) -> None:
        """A process of the phase was replaced (a killed worker): keep what the old one used."""
        self.ended[name] = self.ended.get(name, 0.0) + used_by_old - self.start[name]
        self.pids[name], self.start[name] = pid, self._cpu(name, pid)

    def report(self) -> list[str]:
        wall = time.monotonic() - self.wall0
        used = {name: self._cpu(name, pid) - self.start[name] for name, pid in self.pids.items()}
        for name, seconds in self.ended.items():
            used[name] += seconds
        used["other processes"] = machine_busy_seconds() - self.busy0 - sum(used.values())
        return [f"{name:<24} {seconds:7.1f} s CPU ({seconds / wall:4.2f} cores)" for name, seconds in used.items()]


# --------------------------------------------------------------------------- workflow task latency
async def workflow_task_latencies(
    client: Client, numbers: list[str], since: datetime, sample: int
) -> tuple[list[float], list[float], int]:
    """From a sample of dossier histories: for each workflow task scheduled after `since`, the
    seconds from scheduled to started (waiting for the worker) and from started to completed
    (the worker's work); and how many workflow tasks timed out or failed."""
    waits: list[float] = []
    runs: list[float] = []
    failed = 0
    for number in random.Random(7).sample(numbers, min(sample, len(numbers))):
        history = await client.get_workflow_handle(names.dossier_workflow_id(number)).fetch_history()
        scheduled: dict[int, float] = {}
        started: dict[int, float] = {}
        for event in history.events:
            at = event.event_time.ToDatetime(tzinfo=UTC)
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED and at >= since:
                scheduled[event.event_id] = at.timestamp()
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                s = event.workflow_task_started_event_attributes.scheduled_event_id
                if s in scheduled:
                    waits.append(at.timestamp() - scheduled[s])
                    started[event.event_id] = at.timestamp()
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                s = event.workflow_task_completed_event_attributes.started_event_id
                if s in started:
                    runs.append(at.timestamp() - started[s])
            elif at >= since and kind in (
                EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
                EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
            ):
                failed += 1
    return waits, runs, failed


def dossier_worker_warnings(log: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        if "Workflow task duration exceeded" in line:
            found["workflow tasks over 5 s"] += 1
        elif "Task not found" in line:
            found["workflow tasks answered after their timeout (Task not found)"] += 1
    return found


# --------------------------------------------------------------------------- the stack
class BulkStack:
    def __init__(self, prefix: str, dossier_cache: int) -> None:
        self.work = Path(tempfile.mkdtemp(prefix=prefix))
        self.dossier_cache = dossier_cache
        self.sink = MailSink()
        self.env: WorkflowEnvironment | None = None
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, list[Path]] = {"batch worker": [], "dossier worker": []}
        self.worker_env: dict[str, str] = {}
        self._controller: Any = None

    @property
    def client(self) -> Client:
        assert self.env is not None
        return self.env.client

    async def start(self) -> None:
        self.env = await start_dev_server()
        smtp_port = free_port()
        self._controller = start_mail_sink(self.sink, port=smtp_port)
        self.worker_env = {
            **os.environ,
            "INSCRIPTIONS_ENVIRONMENT": "test",
            "INSCRIPTIONS_TEMPORAL_ADDRESS": self.client.service_client.config.target_host,
            "INSCRIPTIONS_DATA_DIR": str(self.work),
            "INSCRIPTIONS_SMTP_PORT": str(smtp_port),
            "INSCRIPTIONS_WORKER_METRICS_ADDRESS": "",
        }
        await migrate(self.worker_env)  # the workers refuse a schema not at head, as in a deploy
        self.start_batch_worker()
        self._start_dossier_worker()
        # Slow to start on a loaded machine (imports).
        await wait_for_pollers(self.client, BATCH_QUEUE)
        await wait_for_pollers(self.client, DOSSIER_QUEUE)

    def _start_dossier_worker(self) -> None:
        log = self.work / f"dossier-worker-{len(self.logs['dossier worker']) + 1}.log"
        self.logs["dossier worker"].append(log)
        self.processes["dossier worker"] = spawn(
            "devtools.prompt_instruction",
            {**self.worker_env, "INSCRIPTIONS_WORKER_CACHED_WORKFLOWS": str(self.dossier_cache)},
            DOSSIER_QUEUE,
            log,
        )

    async def restart_dossier_worker(self) -> None:
        """A new dossier worker, its cache empty: every dossier the batch touches is rebuilt from
        its history first, as at 10,000 dossiers for the nine in ten a 1,000 cache cannot hold.
        So a run of a few hundred dossiers costs per dossier what a run of 10,000 does."""
        old = self.processes["dossier worker"]
        old.terminate()
        old.wait(timeout=60)
        self._start_dossier_worker()
        await wait_for_pollers(self.client, DOSSIER_QUEUE, pid=self.processes["dossier worker"].pid)
        await idle(self.processes["dossier worker"].pid)

    def start_batch_worker(self) -> subprocess.Popen:
        log = self.work / f"batch-worker-{len(self.logs['batch worker']) + 1}.log"
        self.logs["batch worker"].append(log)
        self.processes["batch worker"] = spawn("bench.worker_process", self.worker_env, BATCH_QUEUE, log)
        return self.processes["batch worker"]

    def profile(self) -> list[subprocess.Popen]:
        """Each worker's stacks during the batch, with BENCH_PYSPY=DIR (`bench.common.record_stacks`;
        their render processes included), until `bench.common.stop_recording`."""
        pids = {name.replace(" ", "-"): [p.pid] for name, p in self.processes.items()}
        return record_stacks(pids, "--nonblocking", "--subprocesses")

    def cpu_phase(self) -> CpuPhase:
        pids = {name: p.pid for name, p in self.processes.items()}
        assert self.env is not None
        server = [p for p in _children(os.getpid()) if _comm(p).startswith("temporal")]
        return CpuPhase({**pids, "dev server": server[0] if server else -1, "bench + SMTP sink": os.getpid()})

    async def prepare(self, campaign: Campaign, n: int, status: Status) -> tuple[list[str], float]:
        """Start `n` dossiers at `status` on the dossier worker; wait until visibility lists them
        and the worker has run every one's first task (its process idle)."""
        t0 = time.perf_counter()
        query = f"{names.CAMPAIGN.name} = '{campaign.id}' AND {names.STATUS.name} = '{status}'"
        starting = asyncio.ensure_future(dossiers_at(self.client, DOSSIER_QUEUE, campaign, n, status, concurrency=64))
        while True:
            await asyncio.wait([starting], timeout=10)
            listed = (await self.client.count_workflows(query)).count
            if starting.done() and listed >= n:
                break
            print(f"  {time.perf_counter() - t0:6.1f} s: {listed}/{n} dossiers listed", flush=True)
        numbers = starting.result()
        await idle(self.processes["dossier worker"].pid)
        return numbers, time.perf_counter() - t0

    def report_logs(self) -> list[str]:
        lines = []
        for log in self.logs["dossier worker"]:
            for what, times in dossier_worker_warnings(log).most_common():
                lines.append(f"{log.name}: {times} x {what}")
        for log in self.logs["batch worker"]:
            for what, times in log_problems(log).most_common(4):
                lines.append(f"{log.name}: {times} x {what}")
        return lines

    async def stop(self, keep: bool) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if self._controller is not None:
            self._controller.stop()
        if self.env is not None:
            await self.env.shutdown()
        if keep:
            print(f"Worker logs kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


async def idle(pid: int, below: float = 0.05, for_seconds: float = 2.0, timeout: float = 1800) -> None:
    """Wait until process `pid` uses less than `below` of a core for `for_seconds`."""
    started, quiet, last = time.monotonic(), 0.0, tree_cpu_seconds(pid)
    while quiet < for_seconds and time.monotonic() - started < timeout:
        await asyncio.sleep(0.5)
        now = tree_cpu_seconds(pid)
        quiet = quiet + 0.5 if now - last < below * 0.5 else 0.0
        last = now


def latency_lines(waits: list[float], runs: list[float], failed: int, sample: int) -> list[str]:
    return [
        f"dossier worker's workflow tasks during the batch ({sample} histories sampled):",
        f"  waiting for the worker   {seconds_summary(waits)}",
        f"  run by the worker        {seconds_summary(runs)}",
        f"  timed out or failed      {failed}",
    ]


def bulk_arguments(parser: argparse.ArgumentParser, in_flight: str) -> None:
    """The options both bulk benches take; `in_flight` says what --concurrency bounds."""
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument(
        "--dossier-cache",
        type=int,
        default=Settings.model_fields["worker_cached_workflows"].default,
        help="workflows the dossier worker keeps in memory (production default)",
    )
    parser.add_argument("--page-size", type=int, default=0, help="dossiers per activity call (default: the web's)")
    parser.add_argument("--concurrency", type=int, default=0, help=f"{in_flight} in flight (default: the web's)")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="keep the dossier worker that started the dossiers (by default a new one, its cache empty)",
    )
    parser.add_argument("--every", type=float, default=5.0, help="seconds between progress lines")
    parser.add_argument("--sample", type=int, default=100, help="histories read for the workflow task latencies")
    parser.add_argument("--keep", action="store_true", help="keep the workers' logs and database")


def with_batch_options(request: BatchRequest, args: argparse.Namespace) -> None:
    """--page-size and --concurrency, when given, over the web's defaults."""
    if args.page_size:
        request.page_size = args.page_size
    if args.concurrency:
        request.concurrency = args.concurrency
