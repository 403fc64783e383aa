"""How long preparing one exam's convocations takes for N admitted dossiers (print, store,
deposit each; target: 10,000 in at most 5 minutes on this 2-core machine), and that a worker
killed in the middle neither loses nor doubles any.

Run (no network; a quiet machine for figures worth quoting):

    .venv/bin/python -m bench.bulk_convocations --dossiers 10000
    .venv/bin/python -m bench.bulk_convocations --dossiers 10000 --kill-at 0.4
    .venv/bin/python -m bench.bulk_convocations --dossiers 300    # a quick check, same cost per dossier

The stack is `bench.bulk_stack`'s (dev server, SMTP sink, the production worker for the batch,
a prompt-dossier worker with the production cache size), plus the campaign saved in the
workers' database (the activity reads the exam there). `--kill-at F` SIGKILLs the batch worker
once F of the dossiers are processed and starts a new one: the chunk it held is retried after the
heartbeat timeout (`--heartbeat`), with the same letter keys and update IDs (the dossiers it had
already done are then reported « déjà déposée »). At the end every dossier must hold exactly one
convocation for the exam and the letters table one row per dossier.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.service import RPCError

from bench.bulk_stack import (
    BATCH_QUEUE,
    BulkStack,
    bulk_arguments,
    latency_lines,
    tree_cpu_seconds,
    with_batch_options,
    workflow_task_latencies,
)
from bench.common import stop_recording, uptime
from domain.documents import CentreDocumentKind
from domain.dossier import Dossier
from domain.status import Status
from infra.database import Database, save_campaign
from infra.generated_documents import GeneratedDocument
from infra.temporal import exit_after_temporal
from tests.factories import campaign as make_campaign
from workflows import names
from workflows.batch import BatchKind, BatchProgress, BatchRequest, BatchState, BatchWorkflow
from workflows.dossier import DossierWorkflow


async def convocations_per_dossier(client: Client, numbers: list[str], exam_code: str) -> Counter[int]:
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
    stack = BulkStack("bench-convocations-", args.dossier_cache)
    database: Database | None = None
    try:
        await stack.start()
        client = stack.client
        database = Database(f"sqlite+aiosqlite:///{stack.work / 'inscriptions.db'}")
        campaign = make_campaign()
        async with database.sessions() as session:
            await save_campaign(session, campaign)
        n = args.dossiers
        print(f"Preparation: {n} admitted dossiers on the dossier worker (cache {args.dossier_cache})...", flush=True)
        numbers, prepared = await stack.prepare(campaign, n, Status.ADMITTED)
        print(f"  ready after {prepared:.1f} s ({n / prepared:.0f} dossiers/s); {uptime()}", flush=True)
        if not args.warm:
            await stack.restart_dossier_worker()

        request = BatchRequest(
            BatchKind.CONVOCATIONS,
            campaign.id,
            requested_by="bench",
            exam_code="ecrit",
            heartbeat_seconds=args.heartbeat,
        )
        with_batch_options(request, args)
        print(f"Machine before the batch: {uptime()}")
        print(f"Convocations (pages of {request.page_size}, {request.concurrency} dossiers in flight)...", flush=True)
        since = datetime.now(UTC)
        cpu = stack.cpu_phase()
        profilers = stack.profile()
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
            print(f"  {time.perf_counter() - t1:6.1f} s: {p.processed}/{p.total} processed", flush=True)
            if args.kill_at and killed_at is None and p.processed >= args.kill_at * n:
                old = stack.processes["batch worker"]
                used = tree_cpu_seconds(old.pid)
                old.send_signal(signal.SIGKILL)  # a crash: no graceful shutdown
                old.wait()
                killed_at = time.perf_counter() - t1
                print(f"  batch worker KILLED at {killed_at:.1f} s; starting a new one", flush=True)
                cpu.replace("batch worker", stack.start_batch_worker().pid, used)
        progress: BatchProgress = result_task.result()
        seconds = time.perf_counter() - t1
        cpu_lines = cpu.report()
        stop_recording(profilers)
        print(f"Machine after the batch: {uptime()}")

        per_dossier = await convocations_per_dossier(client, numbers, "ecrit")
        async with database.sessions() as session:
            letters = await session.scalar(
                select(func.count()).select_from(GeneratedDocument).where(GeneratedDocument.kind == "convocation")
            )
        latencies = await workflow_task_latencies(client, numbers, since, args.sample)
        print()
        print(
            f"Convocations of one exam for {n} admitted dossiers (page {request.page_size}, concurrency "
            f"{request.concurrency}, dossier worker cache {args.dossier_cache}{', warm' if args.warm else ', cold'}):"
        )
        print(f"  preparation (not measured):      {prepared:6.1f} s")
        print(f"  batch workflow, start to result: {seconds:6.1f} s   ({n / seconds:5.1f} dossiers/s)")
        if killed_at is not None:
            print(f"  batch worker killed at {killed_at:.1f} s (heartbeat timeout {args.heartbeat} s) and replaced")
        print(f"  applied {progress.applied}, refused {progress.refused}, workflow runs {progress.runs}")
        for issue in progress.issues[:5]:
            print(f"    {issue.item}: {issue.message}")
        print(f"  dossiers by number of convocations held: {dict(sorted(per_dossier.items()))}")
        print(f"  convocation PDFs stored (letters table): {letters}")
        print("  CPU during the batch:")
        for line in cpu_lines:
            print(f"    {line}")
        for line in latency_lines(*latencies, sample=min(args.sample, n)):
            print(f"  {line}")
        for line in stack.report_logs():
            print(f"  {line}")
        ok = per_dossier == Counter({1: n}) and letters == n and progress.processed == n
        print("  check: " + ("every dossier holds exactly one convocation" if ok else "MISMATCH, see above"))
        return 0 if ok else 1
    finally:
        if database is not None:
            await database.dispose()
        await stack.stop(args.keep)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk_convocations", description=__doc__.split("\n\n")[0])
    bulk_arguments(parser, "dossiers")
    parser.add_argument("--kill-at", type=float, default=0.0, help="SIGKILL the batch worker at this share done")
    parser.add_argument("--heartbeat", type=int, default=10, help="seconds before a dead worker's chunk is retried")
    exit_after_temporal(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
