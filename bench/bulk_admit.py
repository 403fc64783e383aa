"""How long the bulk admission of a campaign's complete dossiers takes, for 1,000 dossiers.

Run (a few minutes on 2 cores; nothing else needed, no network):

    .venv/bin/python -m bench.bulk_admit
    .venv/bin/python -m bench.bulk_admit --dossiers 300 --page-size 100 --concurrency 32

What it sets up, all on 127.0.0.1 and thrown away at the end:
- a local Temporal dev server (in-memory store, the project's search attributes), as the tests
  start it;
- the development SMTP sink in this process: every admission email really goes out over SMTP
  and is counted per dossier here;
- the production worker (`bench.worker_process`, hence `worker.build_worker`) in its own process:
  it runs the `BatchWorkflow` and its activities;
- a prompt-instruction worker (`python -m devtools.prompt_instruction`) in another process, for
  the dossiers: the real dossier workflow, started already "complet" (on the dev server a
  validated dossier only goes under instruction at 8:30 on the next working day).

Then it starts --dossiers complete dossiers, waits until visibility lists them all, and times the
`BatchWorkflow` that admits them: from its start to its result (every dossier's Update answered),
and until every admission email reached the SMTP sink. Progress is read with the workflow's query
while it runs. At the end it checks that each dossier is admitted and got one admission email.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from bench.common import cpu_seconds, free_port, migrate, start_dev_server
from devtools.mail_sink import MailSink
from devtools.mail_sink import start as start_mail_sink
from devtools.prompt_instruction import dossiers_at, wait_for_status_count
from domain.status import Status
from infra.settings import PROJECT_ROOT
from tests.factories import campaign as make_campaign
from workflows import names
from workflows.batch import BatchKind, BatchProgress, BatchRequest, BatchState, BatchWorkflow

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


async def wait_for_pollers(client: Client, task_queue: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        if response.pollers:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"no worker polled {task_queue} within {timeout:.0f} s")


async def idle(pid: int, below: float = 0.05, for_seconds: float = 2.0, timeout: float = 600) -> None:
    """Wait until process `pid` uses less than `below` of a core for `for_seconds`."""
    started, quiet, last = time.monotonic(), 0.0, cpu_seconds(pid)
    while quiet < for_seconds and time.monotonic() - started < timeout:
        await asyncio.sleep(0.5)
        now = cpu_seconds(pid)
        quiet = quiet + 0.5 if now - last < below * 0.5 else 0.0
        last = now


def admission_mails(sink: MailSink, numbers: set[str]) -> tuple[Counter[str], int]:
    """Admission emails per dossier (one per Message-ID), and raw deliveries."""
    raw = [m for m in sink.messages if m.dossier in numbers and "admis(e) à concourir" in m.subject.lower()]
    distinct = {m.message_id: m for m in raw}.values()
    return Counter(m.dossier for m in distinct), len(raw)


async def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
    env = await start_dev_server()
    client = env.client
    sink = MailSink()
    smtp_port = free_port()
    controller = start_mail_sink(sink, port=smtp_port)
    worker_env = {
        **os.environ,
        "INSCRIPTIONS_ENVIRONMENT": "test",
        "INSCRIPTIONS_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "INSCRIPTIONS_DATA_DIR": str(work),
        "INSCRIPTIONS_SMTP_PORT": str(smtp_port),
    }
    await migrate(worker_env)  # the workers refuse a schema not at head, as in a deploy
    processes = [
        spawn("bench.worker_process", worker_env, BATCH_QUEUE, work / "batch-worker.log"),
        spawn("devtools.prompt_instruction", worker_env, DOSSIER_QUEUE, work / "dossier-worker.log"),
    ]
    try:
        await wait_for_pollers(client, BATCH_QUEUE)
        await wait_for_pollers(client, DOSSIER_QUEUE)
        campaign = make_campaign()
        n = args.dossiers
        print(f"Starting {n} complete dossiers on the dossier worker...", flush=True)
        t0 = time.perf_counter()
        numbers = await dossiers_at(client, DOSSIER_QUEUE, campaign, n, Status.COMPLETE, concurrency=64)
        await wait_for_status_count(client, campaign.id, Status.COMPLETE, n, timeout=300)
        print(f"  {n} dossiers listed as complete in {time.perf_counter() - t0:.1f} s")
        # Time the batch alone: wait until the dossier worker has run every dossier's first
        # workflow task, i.e. until its process is idle (visibility cannot tell: a running
        # workflow's history length is not indexed).
        await idle(processes[1].pid)
        await asyncio.sleep(args.settle)
        print(f"  dossier worker idle after {time.perf_counter() - t0:.1f} s")

        request = BatchRequest(
            BatchKind.ADMIT_COMPLETE,
            campaign.id,
            requested_by="bench",
            page_size=args.page_size,
            concurrency=args.concurrency,
        )
        print(f"Bulk admission (pages of {args.page_size}, {args.concurrency} Updates in flight)...", flush=True)
        t1 = time.perf_counter()
        handle = await client.start_workflow(
            BatchWorkflow.run,
            BatchState(request),
            id=f"bench-admission-{uuid.uuid4().hex[:6]}",
            task_queue=BATCH_QUEUE,
        )
        result_task = asyncio.ensure_future(handle.result())
        while not result_task.done():
            await asyncio.wait([result_task], timeout=5)
            if not result_task.done():
                p = await handle.query(names.BATCH_PROGRESS, result_type=BatchProgress)
                print(
                    f"  {time.perf_counter() - t1:5.1f} s: {p.processed}/{p.total} processed, run {p.runs}", flush=True
                )
        progress: BatchProgress = result_task.result()
        batch_seconds = time.perf_counter() - t1

        wanted = set(numbers)
        while True:
            mails, raw = admission_mails(sink, wanted)
            if len(mails) == n or time.perf_counter() - t1 > batch_seconds + 300:
                break
            await asyncio.sleep(0.2)
        mail_seconds = time.perf_counter() - t1
        admitted = (
            await client.count_workflows(
                f"{names.CAMPAIGN.name} = '{campaign.id}' AND {names.STATUS.name} = '{Status.ADMITTED}'"
            )
        ).count

        print()
        print(f"Bulk admission of {n} complete dossiers (page {args.page_size}, concurrency {args.concurrency}):")
        print(f"  batch workflow, start to result:   {batch_seconds:6.1f} s   ({n / batch_seconds:5.1f} dossiers/s)")
        print(f"  until the last admission email:    {mail_seconds:6.1f} s")
        print(
            f"  applied {progress.applied}, refused {progress.refused}, workflow runs {progress.runs} (continue-as-new)"
        )
        print(f"  admitted (visibility): {admitted}; admission emails: {sum(mails.values())} distinct, {raw} delivered")
        ok = progress.applied == n and admitted == n and set(mails.values()) == {1} and len(mails) == n
        print("  check: " + ("every dossier admitted once, one email each" if ok else "MISMATCH, see above"))
        return 0 if ok else 1
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        controller.stop()
        await env.shutdown()
        if args.keep:
            print(f"Worker logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk_admit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--page-size", type=int, default=100, help="dossiers per activity call")
    parser.add_argument(
        "--concurrency", type=int, default=BatchRequest.concurrency, help="Updates in flight per activity"
    )
    parser.add_argument(
        "--settle", type=float, default=0.0, help="extra seconds to wait once the dossier worker is idle"
    )
    parser.add_argument("--keep", action="store_true", help="keep the workers' logs and database")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
