"""How long preparing one exam's convocations takes for N admitted dossiers (print, store,
deposit each), and that a worker killed in the middle neither loses nor doubles any.

Run (nothing else needed, no network; the target is 10,000 in at most 5 minutes):

    .venv/bin/python -m bench.bulk_convocations --dossiers 1000
    .venv/bin/python -m bench.bulk_convocations --dossiers 10000 --kill-at 0.4

Same stack as `bench.bulk_admit` (local dev server, the production worker for the batch in its
own process, the prompt-instruction worker for the dossiers, the SMTP sink in this process),
plus the campaign saved in the batch worker's database (the activity reads the exam there).
`--kill-at F` SIGKILLs the batch worker once F of the dossiers are processed and starts a new
one: the chunk it held is retried after the heartbeat timeout (`--heartbeat`), with the same
letter keys and update IDs. At the end every dossier must hold exactly one convocation for the
exam, and the letters table one row per dossier.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select
from temporalio.service import RPCError

from bench.bulk_admit import BATCH_QUEUE, DOSSIER_QUEUE, idle, spawn, wait_for_pollers
from bench.common import free_port, migrate, start_dev_server, uptime
from devtools.mail_sink import MailSink
from devtools.mail_sink import start as start_mail_sink
from devtools.prompt_instruction import dossiers_at, wait_for_status_count
from domain.documents import CentreDocumentKind
from domain.dossier import Dossier
from domain.status import Status
from infra.database import Database, save_campaign
from infra.generated_documents import GeneratedDocument
from tests.factories import campaign as make_campaign
from workflows import names
from workflows.batch import BatchKind, BatchProgress, BatchRequest, BatchState, BatchWorkflow
from workflows.dossier import DossierWorkflow


async def convocations_per_dossier(client, numbers: list[str], exam_code: str) -> Counter[int]:
    """How many dossiers hold 0, 1, 2... convocations for the exam (read with the view query)."""
    limit = asyncio.Semaphore(32)
    counts: Counter[int] = Counter()

    async def one(number: str) -> None:
        async with limit:
            dossier: Dossier = await client.get_workflow_handle_for(DossierWorkflow.run, number).query(
                DossierWorkflow.view
            )
            counts[
                sum(
                    1
                    for d in dossier.documents
                    if d.kind is CentreDocumentKind.CONVOCATION and d.exam_code == exam_code
                )
            ] += 1

    await asyncio.gather(*(one(n) for n in numbers))
    return counts


async def run(args: argparse.Namespace) -> int:
    print(f"Machine: {uptime()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-convocations-"))
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
    database = Database(f"sqlite+aiosqlite:///{work / 'inscriptions.db'}")
    campaign = make_campaign()
    await migrate(worker_env)  # the workers refuse a schema not at head, as in a deploy
    batch_log = work / "batch-worker.log"
    processes = {
        "batch": spawn("bench.worker_process", worker_env, BATCH_QUEUE, batch_log),
        "dossiers": spawn("devtools.prompt_instruction", worker_env, DOSSIER_QUEUE, work / "dossier-worker.log"),
    }
    try:
        # Slow to start on a loaded machine (imports); the worker creates the tables.
        await wait_for_pollers(client, BATCH_QUEUE, timeout=300)
        await wait_for_pollers(client, DOSSIER_QUEUE, timeout=300)
        async with database.sessions() as session:
            await save_campaign(session, campaign)
        n = args.dossiers
        print(f"Starting {n} admitted dossiers on the dossier worker...", flush=True)
        t0 = time.perf_counter()
        numbers = await dossiers_at(client, DOSSIER_QUEUE, campaign, n, Status.ADMITTED, concurrency=64)
        await wait_for_status_count(client, campaign.id, Status.ADMITTED, n, timeout=900)
        await idle(processes["dossiers"].pid, timeout=1800)
        print(f"  {n} dossiers admitted and the dossier worker idle after {time.perf_counter() - t0:.1f} s")

        request = BatchRequest(
            BatchKind.CONVOCATIONS,
            campaign.id,
            requested_by="bench",
            exam_code="ecrit",
            page_size=args.page_size,
            concurrency=args.concurrency,
            heartbeat_seconds=args.heartbeat,
        )
        print(f"Machine before the batch: {uptime()}")
        print(f"Convocations (pages of {args.page_size}, {args.concurrency} dossiers in flight)...", flush=True)
        t1 = time.perf_counter()
        handle = await client.start_workflow(
            BatchWorkflow.run,
            BatchState(request),
            id=f"bench-convocations-{uuid.uuid4().hex[:6]}",
            task_queue=BATCH_QUEUE,
        )
        killed_at: float | None = None
        result_task = asyncio.ensure_future(handle.result())
        while not result_task.done():
            await asyncio.wait([result_task], timeout=args.every)
            if result_task.done():
                break
            try:
                p = await handle.query(names.BATCH_PROGRESS, result_type=BatchProgress)
            except RPCError as exc:  # a query needs a worker: none while the new one starts
                print(f"  {time.perf_counter() - t1:6.1f} s: progress not readable ({exc.message})", flush=True)
                continue
            print(f"  {time.perf_counter() - t1:6.1f} s: {p.processed}/{p.total} processed, run {p.runs}", flush=True)
            if args.kill_at and killed_at is None and p.processed >= args.kill_at * n:
                processes["batch"].send_signal(signal.SIGKILL)  # a crash: no graceful shutdown
                processes["batch"].wait()
                killed_at = time.perf_counter() - t1
                print(f"  batch worker KILLED at {killed_at:.1f} s; starting a new one", flush=True)
                processes["batch"] = spawn("bench.worker_process", worker_env, BATCH_QUEUE, work / "batch-worker-2.log")
        progress: BatchProgress = result_task.result()
        seconds = time.perf_counter() - t1
        print(f"Machine after the batch: {uptime()}")

        per_dossier = await convocations_per_dossier(client, numbers, "ecrit")
        async with database.sessions() as session:
            letters = await session.scalar(
                select(func.count()).select_from(GeneratedDocument).where(GeneratedDocument.kind == "convocation")
            )
        print()
        print(
            f"Convocations of one exam for {n} admitted dossiers "
            f"(page {args.page_size}, concurrency {args.concurrency}):"
        )
        print(f"  batch workflow, start to result: {seconds:6.1f} s   ({n / seconds:5.1f} dossiers/s)")
        if killed_at is not None:
            print(f"  batch worker killed at {killed_at:.1f} s (heartbeat timeout {args.heartbeat} s) and replaced")
        print(f"  applied {progress.applied}, refused {progress.refused}, workflow runs {progress.runs}")
        print(f"  dossiers by number of convocations held: {dict(sorted(per_dossier.items()))}")
        print(f"  convocation PDFs stored (letters table): {letters}")
        ok = per_dossier == Counter({1: n}) and letters == n and progress.processed == n
        print("  check: " + ("every dossier holds exactly one convocation" if ok else "MISMATCH, see above"))
        return 0 if ok else 1
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except Exception:
                process.kill()
        controller.stop()
        await database.dispose()
        await env.shutdown()
        if args.keep:
            print(f"Worker logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk_convocations", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--page-size", type=int, default=100, help="dossiers per activity call")
    parser.add_argument("--concurrency", type=int, default=BatchRequest.concurrency, help="dossiers in flight")
    parser.add_argument("--kill-at", type=float, default=0.0, help="SIGKILL the batch worker at this share done")
    parser.add_argument("--heartbeat", type=int, default=10, help="seconds before a dead worker's chunk is retried")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between progress lines")
    parser.add_argument("--keep", action="store_true", help="keep the workers' logs and database")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
