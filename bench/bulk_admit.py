"""How long the bulk admission of a campaign's complete dossiers takes (target: 10,000 in at most
2 minutes on this 2-core machine).

Run (no network; a quiet machine for figures worth quoting):

    .venv/bin/python -m bench.bulk_admit --dossiers 10000
    .venv/bin/python -m bench.bulk_admit --dossiers 300    # a quick check, same cost per dossier

The stack is `bench.bulk_stack`'s (dev server, SMTP sink, the production worker for the batch,
a prompt-dossier worker with the production cache size). It starts --dossiers complete dossiers
(preparation, timed apart), then times the `BatchWorkflow` that admits them: from its start to
its result (every dossier's Update answered), and until every admission email reached the SMTP
sink. Progress is read with the workflow's query while it runs. At the end it checks that each
dossier is admitted and got one admission email, and prints the CPU of each process during the
batch and the dossier worker's workflow task latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

from bench.bulk_stack import (
    BATCH_QUEUE,
    BulkStack,
    bulk_arguments,
    latency_lines,
    with_batch_options,
    workflow_task_latencies,
)
from bench.common import stop_recording, uptime
from devtools.mail_sink import MailSink
from domain.status import Status
from infra.temporal import exit_after_temporal
from tests.factories import campaign as make_campaign
from workflows import names
from workflows.batch import BatchKind, BatchProgress, BatchRequest, BatchState, BatchWorkflow


def admission_mails(sink: MailSink, numbers: set[str]) -> tuple[Counter[str], int]:
    """Admission emails per dossier (one per Message-ID), and raw deliveries."""
    raw = [m for m in sink.messages if m.dossier in numbers and "admis(e) à concourir" in m.subject.lower()]
    distinct = {m.message_id: m for m in raw}.values()
    return Counter(m.dossier for m in distinct), len(raw)


async def run(args: argparse.Namespace) -> int:
    print(f"Machine: {uptime()}", flush=True)
    stack = BulkStack("bench-bulk-", args.dossier_cache)
    try:
        await stack.start()
        client = stack.client
        campaign = make_campaign()
        n = args.dossiers
        print(f"Preparation: {n} complete dossiers on the dossier worker (cache {args.dossier_cache})...", flush=True)
        numbers, prepared = await stack.prepare(campaign, n, Status.COMPLETE)
        print(f"  ready after {prepared:.1f} s ({n / prepared:.0f} dossiers/s); {uptime()}", flush=True)
        if not args.warm:
            await stack.restart_dossier_worker()

        request = BatchRequest(BatchKind.ADMIT_COMPLETE, campaign.id, requested_by="bench")
        with_batch_options(request, args)
        print(f"Machine before the batch: {uptime()}")
        print(f"Bulk admission (pages of {request.page_size}, {request.concurrency} Updates in flight)...", flush=True)
        since = datetime.now(UTC)
        cpu = stack.cpu_phase()
        profilers = stack.profile()
        t1 = time.perf_counter()
        handle = await client.start_workflow(
            BatchWorkflow.run,
            BatchState(request),
            id=f"bench-admission-{uuid.uuid4().hex[:6]}",
            task_queue=BATCH_QUEUE,
        )
        result_task = asyncio.ensure_future(handle.result())
        while not result_task.done():
            await asyncio.wait([result_task], timeout=args.every)
            if not result_task.done():
                p = await handle.query(names.BATCH_PROGRESS, result_type=BatchProgress)
                print(f"  {time.perf_counter() - t1:6.1f} s: {p.processed}/{p.total} processed", flush=True)
        progress: BatchProgress = result_task.result()
        batch_seconds = time.perf_counter() - t1
        print(f"Machine after the batch: {uptime()}")

        wanted = set(numbers)
        while True:
            mails, raw = admission_mails(stack.sink, wanted)
            if len(mails) == n or time.perf_counter() - t1 > batch_seconds + 300:
                break
            await asyncio.sleep(0.2)
        mail_seconds = time.perf_counter() - t1
        cpu_lines = cpu.report()
        stop_recording(profilers)
        admitted = (
            await client.count_workflows(
                f"{names.CAMPAIGN.name} = '{campaign.id}' AND {names.STATUS.name} = '{Status.ADMITTED}'"
            )
        ).count
        latencies = await workflow_task_latencies(client, numbers, since, args.sample)

        print()
        print(
            f"Bulk admission of {n} complete dossiers (page {request.page_size}, concurrency "
            f"{request.concurrency}, dossier worker cache {args.dossier_cache}{', warm' if args.warm else ', cold'}):"
        )
        print(f"  preparation (not measured):        {prepared:6.1f} s")
        print(f"  batch workflow, start to result:   {batch_seconds:6.1f} s   ({n / batch_seconds:5.1f} dossiers/s)")
        print(f"  until the last admission email:    {mail_seconds:6.1f} s")
        print(
            f"  applied {progress.applied}, refused {progress.refused}, workflow runs {progress.runs} (continue-as-new)"
        )
        print(f"  admitted (visibility): {admitted}; admission emails: {sum(mails.values())} distinct, {raw} delivered")
        print("  CPU from the batch's start to the last email:")
        for line in cpu_lines:
            print(f"    {line}")
        for line in latency_lines(*latencies, sample=min(args.sample, n)):
            print(f"  {line}")
        for line in stack.report_logs():
            print(f"  {line}")
        ok = progress.applied == n and admitted == n and set(mails.values()) == {1} and len(mails) == n
        print("  check: " + ("every dossier admitted once, one email each" if ok else "MISMATCH, see above"))
        return 0 if ok else 1
    finally:
        await stack.stop(args.keep)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk_admit", description=__doc__.split("\n\n")[0])
    bulk_arguments(parser, "Updates")
    exit_after_temporal(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
