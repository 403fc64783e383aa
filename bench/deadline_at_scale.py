"""A campaign's deadline at scale: N open, not-validated dossiers pass their validation deadline.

Run (2,000 dossiers: about 7 minutes on 2 cores; 10,000: plan 25 to 35 minutes; no network):

    .venv/bin/python -m bench.deadline_at_scale                      # 10,000 dossiers
    .venv/bin/python -m bench.deadline_at_scale --dossiers 500       # a quick check
    .venv/bin/python -m bench.deadline_at_scale --help

Not a test: it prints figures about this machine (issue 10, point 5).

What runs, all on 127.0.0.1 and thrown away at the end: the Temporal dev server (CLI binary, on a
SQLite file as `scripts/dev.sh` runs it; `--in-memory` for none), the SMTP sink
(`bench.common.CountingSink`, in this process) and ONE production worker process
(`bench.worker_process`, i.e. `worker.main` with its default cache, `INSCRIPTIONS_WORKER_CACHED_WORKFLOWS`).

1. N dossiers of one campaign are started as the pre-registration starts them
   (`WorkflowClient.start_dossier`, at most --concurrency at a time); its validation deadline is
   a real instant a little after they are all open (--lead, estimated from N) and it has no
   reminders. Every pre-registration email is awaited: then the dossiers are idle, each waiting on
   its deadline timer.
2. The deadline passes: measured from the deadline until the sink has every cancellation email
   (first, median, 90th percentile, last), the worker's CPU and memory (VmRSS sampled every
   0.5 s) and the dev server's CPU over that time, and visibility's count of cancelled dossiers.
3. A sample of histories (--sample) is read: the workflow tasks each dossier ran between its
   start and the deadline (any is a wake for nothing: nothing was due), at and after the
   deadline, what woke each of them (timer, activity result...), and how many completed with no
   command at all (woke for nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, timedelta
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from bench.common import (
    CountingSink,
    CpuWatch,
    WorkerProcess,
    app_environment,
    dev_server_pids,
    free_port,
    load,
    percentile,
    rss_mib,
    say,
    start_dev_server,
    uptime,
    wait_until,
)
from devtools.mail_sink import start as start_mail_sink
from devtools.samples import registration
from domain.campaign import Campaign
from domain.registration import dossier_number
from domain.status import Status
from tests.factories import campaign as make_campaign
from workflows import names
from workflows.client import WorkflowClient

CANCELLATION = "Préinscription annulée"  # the cancellation email's subject, before " — dossier n° ..."

# Events a workflow task's commands produce (what a task that did something leaves behind).
COMMAND_EVENTS = {
    EventType.EVENT_TYPE_TIMER_STARTED,
    EventType.EVENT_TYPE_TIMER_CANCELED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
    EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
    EventType.EVENT_TYPE_MARKER_RECORDED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
}


def short(event_type: int) -> str:
    return EventType.Name(event_type).removeprefix("EVENT_TYPE_")  # type: ignore[arg-type]


async def start_all(gateway: WorkflowClient, campaign: Campaign, numbers: list[str], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one(index: int, number: str) -> None:
        nonlocal done
        async with gate:
            await gateway.start_dossier(registration(campaign, number, index))
            done += 1

    async def progress() -> None:
        while True:
            await asyncio.sleep(10)
            say(f"  {done}/{len(numbers)} dossiers started")

    reporter = asyncio.create_task(progress())
    try:
        await asyncio.gather(*(one(i, n) for i, n in enumerate(numbers)))
    finally:
        reporter.cancel()


def analyse(events: list[HistoryEvent], deadline: float) -> dict[str, int]:
    """Workflow tasks of one history: before/after the deadline, what woke them, idle ones."""
    found: Counter[str] = Counter()
    woken_by = "start"
    for i, event in enumerate(events):
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED and i > 0:
            previous = events[i - 1].event_type
            woken_by = "start" if previous == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED else short(previous)
        if kind != EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            continue
        at = event.event_time.ToDatetime(tzinfo=UTC).timestamp()
        when = (
            "at/after deadline" if at >= deadline - 1 else ("first task" if woken_by == "start" else "before deadline")
        )
        found[f"tasks {when}"] += 1
        found[f"tasks woken by {woken_by}"] += 1
        following = []
        for later in events[i + 1 :]:
            if later.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                break
            following.append(later.event_type)
        if not any(t in COMMAND_EVENTS for t in following):
            found[f"tasks with no command ({when}, woken by {woken_by})"] += 1
    found["timers started"] = sum(1 for e in events if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED)
    found["timers fired"] = sum(1 for e in events if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED)
    found["workflow tasks timed out (not picked up or not answered in time)"] = sum(
        1 for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
    )
    found["activities"] = sum(1 for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    found["events"] = len(events)
    return found


async def sample_histories(
    client: Client, numbers: list[str], size: int, deadline: float, rng: random.Random
) -> tuple[dict[str, list[int]], list[str]]:
    """Per measure, its values over the sampled histories; and one history's events after the deadline."""
    analysed: list[dict[str, int]] = []
    example: list[str] = []
    for number in rng.sample(numbers, min(size, len(numbers))):
        history = await client.get_workflow_handle(names.dossier_workflow_id(number)).fetch_history()
        events = list(history.events)
        analysed.append(analyse(events, deadline))
        if not example:
            example = [
                short(e.event_type) for e in events if e.event_time.ToDatetime(tzinfo=UTC).timestamp() >= deadline - 1
            ]
    keys = sorted({k for counts in analysed for k in counts})
    per = {k: [counts.get(k, 0) for counts in analysed] for k in keys}
    return per, example


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-deadline-scale-"))
    rng = random.Random(args.seed)
    sink = CountingSink()
    smtp_port = free_port()
    smtp = start_mail_sink(sink, port=smtp_port)
    say(f"{os.cpu_count()} CPU(s), {load()}; work directory {workdir}")
    env = await start_dev_server(db_file=None if args.in_memory else workdir / "temporal.db")
    target = env.client.service_client.config.target_host
    task_queue = f"bench-scale-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(app_environment(workdir, target, smtp_port, task_queue), workdir / "worker.log")
    results: list[str] = []
    try:
        await worker.start()
        idle_rss, _ = rss_mib(worker.pid)
        say(f"Dev server on {target} (pid {dev_server_pids()}), worker pid {worker.pid} (cache {worker.cache_size})")
        cost = args.start_cost or (0.35 if not args.in_memory else 0.15)
        lead = args.lead or 30 + args.dossiers * cost
        # A 1 s receipt delay: what is measured is the closing's processing, not the wait for
        # late on-time clicks (the product's default is 5 minutes).
        campaign = make_campaign(deadline_in=timedelta(seconds=lead), reminders=[], receipt_delay=timedelta(seconds=1))
        deadline = campaign.validation_deadline.timestamp()
        numbers = [dossier_number(campaign, i) for i in range(1, args.dossiers + 1)]
        say(f"Deadline in {lead:.0f} s ({campaign.validation_deadline:%H:%M:%S} UTC); starting {len(numbers)} dossiers")
        began = time.monotonic()
        cpu_start = CpuWatch({"worker": [worker.pid], "dev server": dev_server_pids()})
        await start_all(WorkflowClient(env.client, task_queue), campaign, numbers, args.concurrency)
        started_in = time.monotonic() - began
        expected = dict.fromkeys(numbers, 1)
        await wait_until(lambda: sink.complete(expected) == len(numbers), deadline)
        opened_in = time.monotonic() - began
        say(
            f"{len(numbers)} dossiers started in {started_in:.0f} s ({len(numbers) / started_in:.0f}/s), "
            f"{sink.complete(expected)} pre-registration emails out after {opened_in:.0f} s; "
            f"CPU {cpu_start.report()}"
        )
        results.append(
            f"opening: {len(numbers)} dossiers started in {started_in:.0f} s ({len(numbers) / started_in:.0f}/s, "
            f"{args.concurrency} at a time), every pre-registration email out after {opened_in:.0f} s"
        )
        if time.time() > deadline - 2:
            results.append(
                f"WARNING: the dossiers were not all open {lead:.0f} s after the start: the deadline "
                "figures below include the end of the opening (rerun with a longer --lead)"
            )
        before_rss, _ = rss_mib(worker.pid)
        await asyncio.sleep(max(0.0, deadline - time.time()))
        load_at_deadline = uptime()
        cpu = CpuWatch({"worker": [worker.pid], "dev server": dev_server_pids(), "SMTP sink (bench)": [os.getpid()]})
        say(f"Deadline passed; {load_at_deadline}")
        peak_rss = before_rss
        until = time.monotonic() + args.timeout
        last_report = time.monotonic()
        while len(sink.arrivals.get(CANCELLATION, [])) < len(numbers) and time.monotonic() < until:
            await asyncio.sleep(0.5)
            peak_rss = max(peak_rss, rss_mib(worker.pid)[0])
            if time.monotonic() - last_report > 10:
                last_report = time.monotonic()
                say(f"  {len(sink.arrivals.get(CANCELLATION, []))}/{len(numbers)} cancellation emails")
        cpu_used = cpu.used()
        arrivals = sorted(t - deadline for t in sink.arrivals.get(CANCELLATION, []))
        wall = (arrivals[-1] if arrivals else time.time() - deadline) or 1.0
        after_rss, _ = rss_mib(worker.pid)
        cancelled = await env.client.count_workflows(
            f"{names.CAMPAIGN.name} = '{campaign.id}' AND {names.STATUS.name} = '{Status.CANCELLED}'"
        )
        say(f"{len(arrivals)} cancellation emails, the last {wall:.1f} s after the deadline")
        if arrivals:
            results.append(
                f"deadline: every cancellation email out {arrivals[-1]:.1f} s after the deadline "
                f"({len(arrivals)}/{len(numbers)}; first {arrivals[0]:.1f} s, median {percentile(arrivals, 50):.1f} s, "
                f"90% {percentile(arrivals, 90):.1f} s; {len(arrivals) / wall:.0f} emails/s)"
            )
        if len(arrivals) < len(numbers):
            results.append(f"MISSING: {len(numbers) - len(arrivals)} cancellation emails after {args.timeout:.0f} s")
        results.append(
            f"           visibility: {cancelled.count} dossiers cancelled; duplicates {sink.duplicate_total()}"
        )
        results.append(
            "           CPU from the deadline to the last email: "
            + ", ".join(f"{k} {v:.1f} s ({v / wall:.2f} cores)" for k, v in cpu_used.items())
        )
        results.append(
            f"           worker VmRSS: {idle_rss:.0f} MiB idle, {before_rss:.0f} MiB with the dossiers open, "
            f"peak {peak_rss:.0f} MiB after the deadline, {after_rss:.0f} MiB at the end "
            f"(cache {worker.cache_size} workflows)"
        )
        results.append(f"           load at the deadline: {load_at_deadline}")

        per, example = await sample_histories(env.client, numbers, args.sample, deadline, rng)
        n = len(per.get("events", []))
        results.append(f"histories of {n} dossiers (mean, max per dossier):")
        for key in sorted(per):
            values = per[key]
            results.append(f"           {key:70s} {sum(values) / n:5.2f}  {max(values):3d}")
        results.append(f"           one dossier from the deadline on: {' '.join(example)}")
        for problem in worker.report_problems():
            results.append(f"           worker log: {problem}")
    finally:
        await worker.stop()
        await env.shutdown()
        smtp.stop()
        if args.keep_workdir:
            say(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(f"DEADLINE AT SCALE: {args.dossiers} open dossiers, one worker process, {os.cpu_count()} cores")
    for line in results:
        print("  " + line)
    print(f"  machine at the end: {uptime()}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.deadline_at_scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dossiers", type=int, default=10_000, help="open dossiers at the deadline (10000)")
    parser.add_argument("--concurrency", type=int, default=64, help="dossier starts in flight at most (64)")
    parser.add_argument(
        "--lead", type=float, default=0, help="seconds from the first start to the deadline (0: estimated)"
    )
    parser.add_argument(
        "--start-cost",
        type=float,
        default=0,
        help="seconds per dossier for the --lead estimate (0: 0.35 on a SQLite file, 0.15 in memory)",
    )
    parser.add_argument("--timeout", type=float, default=1200, help="seconds to wait for the emails (1200)")
    parser.add_argument("--sample", type=int, default=30, help="histories read for the task counts (30)")
    parser.add_argument("--in-memory", action="store_true", help="dev server in memory instead of a SQLite file")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep-workdir", action="store_true")
    return parser.parse_args(argv)


def main() -> None:
    asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
