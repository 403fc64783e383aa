"""How many dossier lifecycles one worker drives per second, and its memory with 2,000 open dossiers.

Run (5 to 7 minutes on 2 cores; nothing else needed, no network):

    .venv/bin/python -m bench.lifecycles
    .venv/bin/python -m bench.lifecycles --dossiers 500 --concurrency 50
    .venv/bin/python -m bench.lifecycles --skip-memory          # throughput only
    .venv/bin/python -m bench.lifecycles --skip-throughput      # memory only
    .venv/bin/python -m bench.lifecycles --help

What it sets up, all on 127.0.0.1 and thrown away at the end:
- a local Temporal dev server (the CLI binary of `devtools.temporal_binary`, in-memory store,
  with the project's search attributes), as the tests start it;
- the development SMTP sink (`devtools.mail_sink`) in this process: every email really goes out
  over SMTP through the worker's mail activity, and is counted per dossier here;
- ONE production worker (`worker.main`, hence `worker.build_worker`) in its own process
  (`bench.worker_process`), with a SQLite database in a temporary directory, so that the worker's
  CPU and memory are its own and not shared with this benchmark's client and SMTP sink.

Figure 1, lifecycles per second. The full lifecycle (validate, upload, complete, admit, deposit,
results, archive) cannot run on the dev server without waiting: staff decisions are allowed from
"under instruction" only, which a timer reaches at 8:30 on the next working day after validation.
So two lifecycles that need no such wait are driven end to end through the real message API:
- "active": start (pre-registration email) -> record_upload -> validate (email) ->
  deposit_document of a result letter, released at once (email) -> withdraw (email) ->
  archive signal -> workflow result; 4 updates, 1 signal, 4 emails per dossier;
- "cancelled": start with a validation deadline --cancel-after seconds ahead (pre-registration
  email) -> the deadline timer fires -> cancellation email -> archive signal -> workflow result;
  1 timer, 1 signal, 2 emails per dossier.
Each is run for --dossiers dossiers with at most --concurrency (or --cancel-concurrency) in flight.

Figure 2, the worker's memory: --open-dossiers dossiers are started (a share of them validated) and
left open, waiting on their timers (deadline 20 days ahead, or 8:30 on the next working day); once
each has all its emails, the worker's VmRSS is read from /proc/<pid>/status. The worker caches at
most INSCRIPTIONS_WORKER_CACHED_WORKFLOWS workflows (`infra.settings`), so it holds that many of
the most recently used and replays the others from their history when they next wake. A second worker
is then started on the same task queue with --big-cache slots, as after a restart: each dossier is
queried once, which replays its history into the cache, and VmRSS is read again with all of them
in memory. That replay pass also checks that every history replays against the current code.

Noise: the figures are for this machine as it is while the benchmark runs. Each phase prints the
load average and the CPU that other processes took ("other processes"); compare runs only when
that is near 0.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from bench.common import (
    SDK_DEFAULT_CACHE,
    T0,
    CountingSink,
    CpuWatch,
    WorkerProcess,
    dev_server_pids,
    free_port,
    load,
    rss_mib,
    say,
)
from devtools import temporal_binary
from devtools.mail_sink import start as start_mail_sink
from devtools.samples import registration
from domain.campaign import Campaign
from domain.candidate import Registration
from domain.documents import CentreDocument, CentreDocumentKind, UploadedDocument
from domain.status import Status
from infra.temporal import DATA_CONVERTER
from tests.factories import campaign as make_campaign
from workflows import names
from workflows.client import WorkflowClient
from workflows.dossier import DossierWorkflow, Validate

ACTIVE_MAILS = 4  # pre-registration, validation, document released, withdrawal
CANCELLED_MAILS = 2  # pre-registration, cancellation


# --------------------------------------------------------------------------- dossiers
def new_number(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


async def start_dossier(client: Client, task_queue: str, reg: Registration) -> WorkflowHandle:
    """As the web starts a dossier (`WorkflowClient.start_dossier`)."""
    gateway = WorkflowClient(client, task_queue)
    await gateway.start_dossier(reg)
    return gateway.temporal.get_workflow_handle_for(DossierWorkflow.run, reg.dossier_number)


def an_upload() -> UploadedDocument:
    return UploadedDocument(
        ref=uuid.uuid4().hex,
        category="diplome",
        filename="diplome.pdf",
        size=123_456,
        sha256="0" * 64,
        content_type="application/pdf",
        uploaded_at=datetime.now(UTC),
    )


def a_result_letter() -> CentreDocument:
    now = datetime.now(UTC)  # both instants are set by the workflow on deposit
    return CentreDocument(
        ref=uuid.uuid4().hex,
        kind=CentreDocumentKind.RESULT_LETTER,
        title="Courrier de résultat",
        exam_code=None,
        deposited_at=now,
        release_at=now,
    )


class LifecycleFailed(Exception):
    pass


async def active_lifecycle(client: Client, task_queue: str, campaign: Campaign) -> str:
    reg = registration(campaign, new_number("A"))
    handle = await start_dossier(client, task_queue, reg)
    await handle.execute_update(DossierWorkflow.record_upload, an_upload())
    await handle.execute_update(DossierWorkflow.validate, Validate(sworn_statement=True))
    await handle.execute_update(DossierWorkflow.deposit_document, a_result_letter())
    await handle.execute_update(DossierWorkflow.withdraw)
    await handle.signal(DossierWorkflow.archive)
    outcome = await handle.result()
    if outcome.status is not Status.WITHDRAWN:
        raise LifecycleFailed(f"{reg.dossier_number} ended {outcome.status}, expected {Status.WITHDRAWN}")
    return reg.dossier_number


async def cancelled_lifecycle(
    client: Client, task_queue: str, campaign: Campaign, sink: CountingSink, cancel_after: timedelta
) -> str:
    own = copy.copy(campaign)  # same snapshot, this dossier's own deadline
    own.validation_deadline = datetime.now(UTC) + cancel_after
    reg = registration(own, new_number("C"))
    handle = await start_dossier(client, task_queue, reg)
    # Archive only once the candidate has been told: the cancellation email is the proof that the
    # deadline timer fired (an archive signal first would end the workflow before it).
    await sink.wait_for(reg.dossier_number, CANCELLED_MAILS, timeout=120)
    await handle.signal(DossierWorkflow.archive)
    outcome = await handle.result()
    if outcome.status is not Status.CANCELLED:
        raise LifecycleFailed(f"{reg.dossier_number} ended {outcome.status}, expected {Status.CANCELLED}")
    return reg.dossier_number


# --------------------------------------------------------------------------- driving many
@dataclass
class Drive:
    label: str
    total: int
    done: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.done) / self.wall if self.wall else 0.0

    def latency(self) -> str:
        if len(self.latencies) < 2:
            return "n/a"
        q = statistics.quantiles(self.latencies, n=100)
        return f"p50 {q[49]:.2f} s, p95 {q[94]:.2f} s, max {max(self.latencies):.2f} s"


async def drive(label: str, count: int, concurrency: int, one: Callable[[], Awaitable[str]], every: float) -> Drive:
    """Run `one()` `count` times, at most `concurrency` at a time, reporting every `every` s."""
    run = Drive(label, count)
    gate = asyncio.Semaphore(concurrency)
    in_flight = 0

    async def each() -> None:
        nonlocal in_flight
        async with gate:
            in_flight += 1
            began = time.monotonic()
            try:
                run.done.append(await one())
                run.latencies.append(time.monotonic() - began)
            except Exception as exc:  # counted and shown; the others carry on
                run.errors.append(f"{type(exc).__name__}: {exc}")
                if len(run.errors) <= 3:
                    say(f"  {label}: failure: {type(exc).__name__}: {exc}")
            finally:
                in_flight -= 1

    async def progress() -> None:
        last, last_at = 0, time.monotonic()
        while True:
            await asyncio.sleep(every)
            now, finished = time.monotonic(), len(run.done) + len(run.errors)
            say(
                f"  {label}: {finished}/{count} finished ({len(run.errors)} failed), "
                f"{in_flight} in flight, {(finished - last) / (now - last_at):.1f}/s lately"
            )
            last, last_at = finished, now

    reporter = asyncio.create_task(progress())
    began = time.monotonic()
    try:
        await asyncio.gather(*(each() for _ in range(count)))
    finally:
        run.wall = time.monotonic() - began
        reporter.cancel()
    return run


# --------------------------------------------------------------------------- figure 1
async def throughput(
    args: argparse.Namespace, client: Client, env: dict[str, str], workdir: Path, sink: CountingSink, results: list[str]
) -> None:
    task_queue = f"bench-throughput-{uuid.uuid4().hex[:6]}"
    worker = WorkerProcess({**env, "INSCRIPTIONS_TASK_QUEUE": task_queue}, workdir / "worker-throughput.log")
    await worker.start()
    say(f"Worker started (pid {worker.pid}, task queue {task_queue}, log {worker.log_path})")
    campaign = make_campaign(deadline_in=timedelta(days=20))
    server = dev_server_pids()
    try:
        # A few lifecycles first, so imports, connections and the sandbox are warm.
        warm = await drive("warm-up", 10, 10, lambda: active_lifecycle(client, task_queue, campaign), 60)
        if warm.errors:
            raise SystemExit(f"warm-up failed: {warm.errors[0]}\n{worker.log_tail()}")

        plans: list[tuple[str, int, Callable[[], Awaitable[str]], int, str]] = []
        if args.lifecycle in ("active", "both"):
            plans.append(
                (
                    "active",
                    args.concurrency,
                    lambda: active_lifecycle(client, task_queue, campaign),
                    ACTIVE_MAILS,
                    (
                        "start -> upload -> validate -> result letter deposited -> withdraw -> archive "
                        "(4 updates, 1 signal, 4 emails)"
                    ),
                )
            )
        if args.lifecycle in ("cancelled", "both"):
            after = timedelta(seconds=args.cancel_after)
            plans.append(
                (
                    "cancelled",
                    args.cancel_concurrency,
                    lambda: cancelled_lifecycle(client, task_queue, campaign, sink, after),
                    CANCELLED_MAILS,
                    (
                        f"start -> deadline timer ({args.cancel_after:g} s) -> cancellation -> archive "
                        "(1 timer, 1 signal, 2 emails)"
                    ),
                )
            )
        for label, concurrency, one, mails_each, what in plans:
            say(f"Lifecycle '{label}': {args.dossiers} dossiers, at most {concurrency} at a time: {what}; {load()}")
            mails0, dups0 = sink.total(), sink.duplicate_total()
            cpu = CpuWatch({"worker": [worker.pid], "dev server": server, "bench client + SMTP sink": [os.getpid()]})
            run = await drive(label, args.dossiers, concurrency, one, args.progress_every)
            cores = cpu.report()
            mails, dups = sink.total() - mails0, sink.duplicate_total() - dups0
            wrong = [n for n in run.done if sink.count(n) != mails_each]
            say(
                f"Lifecycle '{label}': {len(run.done)} done, {len(run.errors)} failed in {run.wall:.1f} s "
                f"= {run.rate:.1f} lifecycles/s; latency {run.latency()}"
            )
            say(f"  CPU over the run: {cores}")
            say(
                f"  emails received by the SMTP sink: {mails} distinct (expected {len(run.done) * mails_each}), "
                f"{dups} sent twice; dossiers with a wrong count: {len(wrong)}"
            )
            line = (
                f"{label:9s}: {run.rate:5.1f} lifecycles/s ({len(run.done)}/{args.dossiers} in {run.wall:.1f} s, "
                f"{concurrency} in flight max); emails {mails}/{len(run.done) * mails_each}"
                + (f" + {dups} DUPLICATES" if dups else "")
            )
            if run.errors or wrong:
                line += f"; FAILED {len(run.errors)}, WRONG MAIL COUNT {len(wrong)}"
            results.append(line)
            results.append(f"           = {what}")
            if label == "cancelled":
                results.append(
                    f"           (the timer wait alone caps it at {concurrency / args.cancel_after:.0f}/s "
                    f"with {concurrency} in flight)"
                )
            results.append(f"           latency {run.latency()}")
            results.append(f"           CPU {cores}")
    finally:
        await worker.stop()
    for problem in worker.report_problems():
        results.append(f"           worker log: {problem}")
    sent = count_sent_mails(workdir / "inscriptions.db")
    say(f"sent_mails rows in the worker's database so far: {sent}")


def count_sent_mails(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("select count(*) from sent_mails").fetchone()[0]


# --------------------------------------------------------------------------- figure 2
async def open_dossiers(
    args: argparse.Namespace, client: Client, task_queue: str, sink: CountingSink
) -> tuple[list[str], int]:
    """Start --open-dossiers dossiers, validate a share, wait until every email went out.

    Returns the dossier numbers and how many emails reached the sink twice meanwhile."""
    campaign = make_campaign(deadline_in=timedelta(days=20))
    numbers: list[str] = []
    every_nth = round(1 / args.validated_share) if args.validated_share > 0 else 0
    expected: dict[str, int] = {}

    async def one() -> str:
        reg = registration(campaign, new_number("M"))
        handle = await start_dossier(client, task_queue, reg)
        numbers.append(reg.dossier_number)
        expected[reg.dossier_number] = 1  # pre-registration email
        if every_nth and len(numbers) % every_nth == 0:
            await handle.execute_update(DossierWorkflow.validate, Validate(sworn_statement=True))
            expected[reg.dossier_number] = 2  # and the validation email
        return reg.dossier_number

    dups0 = sink.duplicate_total()
    run = await drive("open", args.open_dossiers, args.concurrency, one, args.progress_every)
    if run.errors:
        raise SystemExit(f"could not open the dossiers: {run.errors[0]}")
    validated = sum(1 for n in expected.values() if n == 2)
    say(
        f"Opened {len(numbers)} dossiers ({validated} validated) in {run.wall:.1f} s "
        f"({run.rate:.1f}/s); waiting for their {sum(expected.values())} emails"
    )
    deadline = time.monotonic() + 300
    while (complete := sink.complete(expected)) < len(expected):
        if time.monotonic() > deadline:
            raise SystemExit(f"only {complete}/{len(expected)} dossiers have all their emails after 300 s")
        await asyncio.sleep(0.5)
    dups = sink.duplicate_total() - dups0
    say(f"Every dossier has all its emails ({dups} sent twice): each is idle, waiting on its timer")
    return numbers, dups


async def query_all(args: argparse.Namespace, client: Client, numbers: list[str], label: str) -> Drive:
    """Query every dossier once: each lands in the worker's cache (replayed if it was not there)."""
    index = iter(numbers)

    async def one() -> str:
        number = next(index)
        dossier = await client.get_workflow_handle_for(DossierWorkflow.run, number).query(DossierWorkflow.view)
        if dossier.status not in (Status.AWAITING_DOSSIER, Status.TRANSFERRING):
            raise LifecycleFailed(f"{number} is {dossier.status}")
        return number

    run = await drive(label, len(numbers), args.concurrency, one, args.progress_every)
    say(
        f"Queried {len(run.done)}/{len(numbers)} dossiers in {run.wall:.1f} s "
        f"({run.rate:.0f}/s, {len(run.errors)} failed)"
    )
    return run


async def settle_rss(pid: int, seconds: float = 3.0) -> tuple[float, float]:
    await asyncio.sleep(seconds)
    return rss_mib(pid)


async def memory(
    args: argparse.Namespace, client: Client, env: dict[str, str], workdir: Path, sink: CountingSink, results: list[str]
) -> None:
    task_queue = f"bench-memory-{uuid.uuid4().hex[:6]}"
    env = {**env, "INSCRIPTIONS_TASK_QUEUE": task_queue}
    n = args.open_dossiers

    worker = WorkerProcess(env, workdir / "worker-memory.log")
    await worker.start()
    idle, _ = await settle_rss(worker.pid)
    say(
        f"Worker started (pid {worker.pid}, as configured: cache {worker.cache_size} workflows); "
        f"idle VmRSS {idle:.1f} MiB; {load()}"
    )
    try:
        numbers, dups = await open_dossiers(args, client, task_queue, sink)
        after, peak = await settle_rss(worker.pid)
        cached = min(n, worker.cache_size)
        say(
            f"Worker VmRSS with {n} open dossiers: {after:.1f} MiB (peak {peak:.1f} MiB); {cached} of them in its cache"
        )
    finally:
        await worker.stop()
    results.append(
        f"configured worker (max_cached_workflows={worker.cache_size}: "
        "INSCRIPTIONS_WORKER_CACHED_WORKFLOWS, default 1000):"
    )
    results.append(
        f"           VmRSS {idle:.1f} MiB idle -> {after:.1f} MiB with {n} open dossiers (peak {peak:.1f}); "
        f"+{after - idle:.1f} MiB = {(after - idle) * 1024 / cached:.0f} KiB per cached dossier"
    )
    if dups:
        results.append(f"           {dups} emails reached the SMTP sink twice while opening them (see the worker log)")
    if n > worker.cache_size:
        # Not queried: with the cache full, querying them in start order evicts each one just
        # before its turn, so every query replays a history and the figure stays the same.
        results.append(
            f"           only the {worker.cache_size} most recently used fit in the cache: the other "
            f"{n - worker.cache_size} are replayed from their history on their next message, timer or query"
        )
    for problem in worker.report_problems():
        results.append(f"           worker log: {problem}")

    if args.big_cache and args.big_cache > SDK_DEFAULT_CACHE:
        # A new worker on the same task queue, with room for all of them: each query replays the
        # dossier's history into its cache (the state after a worker restart).
        big = WorkerProcess(env, workdir / "worker-memory-big-cache.log", max_cached=args.big_cache)
        await big.start()
        idle, _ = await settle_rss(big.pid)
        say(f"Worker restarted (pid {big.pid}) with max_cached_workflows={args.big_cache}; idle VmRSS {idle:.1f} MiB")
        try:
            run = await query_all(args, client, numbers, "replay")
            after, peak = await settle_rss(big.pid)
            say(f"Worker VmRSS with all {n} dossiers replayed into its cache: {after:.1f} MiB (peak {peak:.1f} MiB)")
        finally:
            await big.stop()
        results.append(f"worker restarted with max_cached_workflows={args.big_cache} (bench.worker_process):")
        results.append(
            f"           VmRSS {idle:.1f} MiB idle -> {after:.1f} MiB with all {n} open dossiers in its cache "
            f"(peak {peak:.1f}); +{after - idle:.1f} MiB = {(after - idle) * 1024 / n:.0f} KiB per dossier"
        )
        results.append(
            f"           replaying the {n} after the restart (first query of each): {run.wall:.1f} s, "
            f"{run.rate:.0f}/s; latency {run.latency()}"
        )
        if run.errors:
            results.append(f"           REPLAY FAILED for {len(run.errors)} dossiers, first: {run.errors[0][:300]}")
        for problem in big.report_problems():
            results.append(f"           worker log: {problem}")


# --------------------------------------------------------------------------- main
async def main(args: argparse.Namespace) -> None:
    binary = temporal_binary.ensure(log=say)
    results: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="bench-lifecycles-"))
    sink = CountingSink()
    smtp_port = free_port()
    smtp = start_mail_sink(sink, port=smtp_port)
    say(f"SMTP sink on 127.0.0.1:{smtp_port}; starting the Temporal dev server ({binary})")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(binary),
        search_attributes=list(names.SEARCH_ATTRIBUTES),
        data_converter=DATA_CONVERTER,
        dev_server_log_level=args.server_log_level,
        dev_server_startup_timeout=timedelta(seconds=60),
    )
    try:
        client = env.client
        target = client.service_client.config.target_host
        say(f"Dev server on {target} (pid {dev_server_pids()}); work directory {workdir}")
        worker_env = {
            **os.environ,
            "INSCRIPTIONS_ENVIRONMENT": "test",
            "INSCRIPTIONS_DATA_DIR": str(workdir),
            "INSCRIPTIONS_TEMPORAL_ADDRESS": target,
            "INSCRIPTIONS_SMTP_HOST": "127.0.0.1",
            "INSCRIPTIONS_SMTP_PORT": str(smtp_port),
            "PYTHONUNBUFFERED": "1",
        }
        if not args.skip_throughput:
            await throughput(args, client, worker_env, workdir, sink, results)
        if not args.skip_memory:
            await memory(args, client, worker_env, workdir, sink, results)
    finally:
        await env.shutdown()
        smtp.stop()
        if args.keep_workdir:
            say(f"Kept {workdir} (worker logs, database)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"RESULTS ({os.cpu_count()} cores; one worker process; Temporal dev server {binary.name}, in memory)")
    for line in results:
        print("  " + line)
    print(f"  total time {time.monotonic() - T0:.0f} s")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.lifecycles",
        description="Dossier lifecycles per second through one worker, and the worker's memory "
        "with many open dossiers, on a local Temporal dev server.",
    )
    parser.add_argument("--dossiers", type=int, default=200, help="lifecycles per kind for figure 1 (200)")
    parser.add_argument(
        "--concurrency", type=int, default=50, help="active lifecycles, starts and queries in flight at most (50)"
    )
    parser.add_argument("--lifecycle", choices=("active", "cancelled", "both"), default="both")
    parser.add_argument(
        "--cancel-after",
        type=float,
        default=2.0,
        help="seconds from pre-registration to the validation deadline, 'cancelled' lifecycle (2)",
    )
    parser.add_argument(
        "--cancel-concurrency",
        type=int,
        default=100,
        help="'cancelled' lifecycles in flight at most; they mostly wait on their timer (100)",
    )
    parser.add_argument("--open-dossiers", type=int, default=2000, help="dossiers left open for figure 2 (2000)")
    parser.add_argument(
        "--validated-share", type=float, default=0.5, help="share of the open dossiers that are validated (0.5)"
    )
    parser.add_argument(
        "--big-cache", type=int, default=2500, help="max_cached_workflows of the second memory run; 0 skips it (2500)"
    )
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--keep-workdir",
        action="store_true",
        help="keep the temporary directory (worker logs, database) for inspection",
    )
    parser.add_argument(
        "--server-log-level",
        default="error",
        help="the dev server's log level; 'warn' also shows its slow-call warnings (error)",
    )
    parser.add_argument("--progress-every", type=float, default=5.0, help="seconds between progress lines (5)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
