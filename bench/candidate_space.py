"""Candidate space latency under 50 concurrent candidates: dashboard p99 and 5 MB uploads.

Run (about 2 minutes on 2 cores; no network needed):

    .venv/bin/python -m bench.candidate_space
    .venv/bin/python -m bench.candidate_space --candidates 50 --duration 30 --uploads 20
    .venv/bin/python -m bench.candidate_space --help

Not a test: it prints figures about this machine. Targets: dashboard p99 <= 30 ms, a 5 MB
upload < 1 s.

What runs, all on 127.0.0.1 and thrown away at the end:
- a Temporal dev server (the CLI binary of `devtools.temporal_binary`, in memory, with the
  project's search attributes), as the tests start it;
- the development SMTP sink (`devtools.mail_sink`), in this process;
- the production worker (`python worker.py`) and the production web app (`uvicorn web.app:app`,
  one process per core as the run command starts them, --web-processes), configured through the
  INSCRIPTIONS_* environment variables with a SQLite database and file store in a temporary
  directory;
- this process plays the candidates with httpx: each pre-registers (JSON API), logs in through
  the login page, then browses. It needs about 3 ms of CPU per page, on the same 2 cores as the
  servers; by default it lowers its own priority (--client-nice 10) once the servers run, as if
  the candidates' browsers were elsewhere. `--client-nice 0` measures with equal priority.

Measured:
1. Browsing: each of --candidates candidates loops for --duration seconds over their space
   (dashboard most often, then documents, uploads page, my data), thinking 0.5 to 1.5 s between
   pages as a person reading does. Meanwhile --uploads of them each send a 5 MB PDF through the
   upload page (multipart form, CSRF token, file sniffing, fsync, SQL row, `record_upload`
   Update), one after another. Reported: per-page latency percentiles and upload latencies.
   With BENCH_PYSPY=DIR (py-spy installed), the web and worker stacks of this phase are
   recorded there (`bench.common.record_stacks`).
2. Saturation (for information): the same candidates request the dashboard back to back with no
   think time for --saturation seconds; this is the capacity of the web processes on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from bench.common import (
    child_pids,
    cpu_seconds,
    csrf_token,
    dev_server_pids,
    free_port,
    percentile,
    record_stacks,
    say,
    stop_recording,
    summary,
    wait_http,
)
from devtools import temporal_binary
from devtools.mail_sink import MailSink
from devtools.mail_sink import start as start_mail_sink
from devtools.run_local import web_command, web_environment
from infra.database import Database, save_campaign
from infra.settings import PROJECT_ROOT, default_web_processes
from infra.temporal import DATA_CONVERTER
from tests.factories import campaign as make_campaign
from tests.factories import form as make_form
from workflows import names

TIMING = re.compile(r"(\w+);dur=([\d.]+)")
DASHBOARD_P99_MS = 30  # the deadline-night issue's target for 50 candidates browsing
PAGES = [("/espace", 0.55), ("/espace/documents", 0.15), ("/espace/pieces", 0.15), ("/espace/mes-donnees", 0.15)]
UPLOAD_BYTES = 5 * 1024 * 1024


class Candidate:
    def __init__(self, base_url: str, campaign_id: str, index: int) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        # Distinct people: the same name and birth date would replace the previous registration.
        birth = date(1980, 1, 1) + timedelta(days=index)
        self.form = make_form(campaign_id, last_name="Banc", first_name="Camille", birth_date=birth.isoformat())
        self.number = ""

    async def register(self) -> None:
        created = await self.http.post("/api/preinscriptions", json=self.form)
        created.raise_for_status()
        self.number = created.json()["dossier_number"]

    async def log_in(self) -> None:
        page = await self.http.get("/connexion")
        token = csrf_token(page.text)
        response = await self.http.post(
            "/connexion", data={"dossier_number": self.number, "password": self.form["password"], "csrf_token": token}
        )
        if response.status_code != 303:
            raise SystemExit(f"login of {self.number} failed: {response.status_code}")

    async def get(self, path: str, timings: dict[str, list[float]]) -> None:
        started = time.perf_counter()
        response = await self.http.get(path)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code} for {self.number}")
        timings[path].append(elapsed)
        # The app's own account (Server-Timing): its time, and the Temporal query's share.
        for name, ms in TIMING.findall(response.headers.get("server-timing", "")):
            timings[f"{path} [{name}]"].append(float(ms) / 1000)

    async def upload(self, data: bytes) -> float:
        page = await self.http.get("/espace/pieces")
        token = csrf_token(page.text)
        started = time.perf_counter()
        response = await self.http.post(
            "/espace/pieces",
            data={"category": "diplome", "csrf_token": token},
            files={"fichier": ("diplome-5mo.pdf", data, "application/pdf")},
        )
        elapsed = time.perf_counter() - started
        if response.status_code != 303:
            raise SystemExit(f"upload refused for {self.number}: {response.status_code} {response.text[:300]}")
        return elapsed


async def browse(candidate: Candidate, until: float, timings: dict[str, list[float]], rng: random.Random) -> None:
    paths, weights = zip(*PAGES, strict=True)
    await asyncio.sleep(rng.uniform(0, 1))  # do not all start on the same instant
    while time.monotonic() < until:
        await candidate.get(rng.choices(paths, weights)[0], timings)
        await asyncio.sleep(rng.uniform(0.5, 1.5))


async def hammer(candidate: Candidate, until: float, timings: dict[str, list[float]]) -> None:
    while time.monotonic() < until:
        await candidate.get("/espace", timings)


async def run(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-candidate-space-"))
    say(f"{os.cpu_count()} CPU(s); data in {data_dir}")
    say("Starting the Temporal dev server...")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary.ensure()),
        search_attributes=list(names.SEARCH_ATTRIBUTES),
        data_converter=DATA_CONVERTER,
        dev_server_extra_args=[
            "--dynamic-config-value",
            "system.forceSearchAttributesCacheRefreshOnRead=true",
            "--log-level",
            "error",
        ],
        dev_server_startup_timeout=timedelta(seconds=60),
    )
    sink = MailSink()
    smtp_port = free_port()
    smtp = start_mail_sink(sink, port=smtp_port)
    web_port = free_port()
    base_url = f"http://127.0.0.1:{web_port}"
    environ = {
        **os.environ,
        "INSCRIPTIONS_ENVIRONMENT": "dev",
        "INSCRIPTIONS_DATA_DIR": str(data_dir),
        "INSCRIPTIONS_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "INSCRIPTIONS_TASK_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
        "INSCRIPTIONS_SMTP_PORT": str(smtp_port),
        "INSCRIPTIONS_PUBLIC_URL": base_url,
        # Every bench candidate pre-registers from 127.0.0.1 within a minute.
        "INSCRIPTIONS_PREREGISTRATIONS_PER_ADDRESS": "100000",
        "PYTHONUNBUFFERED": "1",
    }
    database = Database(f"sqlite+aiosqlite:///{data_dir / 'inscriptions.db'}")
    await database.migrate()
    campaign = make_campaign()
    async with database.sessions() as session:
        await save_campaign(session, campaign)
    await database.dispose()

    processes: list[subprocess.Popen] = []
    try:
        quiet: dict[str, Any] = {} if args.verbose else {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        # Popen returns at once (ASYNC220): these processes outlive this coroutine's awaits.
        processes.append(subprocess.Popen([sys.executable, "worker.py"], cwd=PROJECT_ROOT, env=environ, **quiet))  # noqa: ASYNC220
        web = subprocess.Popen(  # noqa: ASYNC220
            web_command(web_port, ["--log-level", "warning", "--no-access-log"]),
            cwd=PROJECT_ROOT,
            env=web_environment(environ, args.web_processes, data_dir / "web-metrics"),
            **quiet,
        )
        processes.append(web)
        await wait_http(f"{base_url}/healthz", web)
        say(f"Web app on {base_url} ({args.web_processes} process(es)), worker running; campaign {campaign.id}")
        if args.client_nice:
            # The servers were started at normal priority; only this process (the simulated
            # candidates) steps back, as if the candidates' browsers ran on other machines.
            os.nice(args.client_nice)
            say(f"Simulated candidates run at nice {args.client_nice}")

        candidates = [Candidate(base_url, campaign.id, i) for i in range(args.candidates)]
        # argon2id costs about half a second of CPU per password: two at a time on two cores.
        gate = asyncio.Semaphore(2)

        async def prepare(c: Candidate) -> None:
            async with gate:
                await c.register()
                await c.log_in()

        started = time.monotonic()
        await asyncio.gather(*(prepare(c) for c in candidates))
        say(
            f"{len(candidates)} candidates pre-registered and logged in ({time.monotonic() - started:.0f} s, "
            "argon2id hashing and checking dominate)"
        )
        for c in candidates:  # warm-up: every dossier's workflow in the worker's cache, as in use
            await c.get("/espace", defaultdict(list))

        # 1. Browsing with think time, uploads interleaved.
        timings: dict[str, list[float]] = defaultdict(list)
        rng = random.Random(42)
        until = time.monotonic() + args.duration
        payload = b"%PDF-1.4\n" + os.urandom(UPLOAD_BYTES - 9)
        uploads: list[float] = []

        async def upload_one_after_another() -> None:
            await asyncio.sleep(2)
            for c in rng.sample(candidates, min(args.uploads, len(candidates))):
                if time.monotonic() > until - 1:
                    break
                uploads.append(await c.upload(payload))
                await asyncio.sleep(max(0.2, (args.duration - 4) / max(1, args.uploads) - uploads[-1]))

        say(
            f"Browsing: {len(candidates)} candidates for {args.duration} s (think time 0.5-1.5 s), "
            f"{args.uploads} uploads of 5 MB meanwhile..."
        )
        found = {
            # uvicorn and, with several processes, the ones it started (they do the work)
            "web": [web.pid, *child_pids(web.pid)],
            "worker": [processes[0].pid],
            "Temporal": dev_server_pids()[:1],  # the dev server may be elsewhere
            "candidates (httpx)": [os.getpid()],
        }
        pids = {name: found_pids for name, found_pids in found.items() if found_pids}

        def cpu(name: str) -> float:
            return sum(cpu_seconds(pid) for pid in pids[name])

        cpu_before = {name: cpu(name) for name in pids}
        load_before = load_average()
        recorders = record_stacks({"web": pids["web"], "worker": pids["worker"]}, "--nonblocking")
        await asyncio.gather(*(browse(c, until, timings, rng) for c in candidates), upload_one_after_another())
        stop_recording(recorders)
        cpu_used = {name: cpu(name) - before for name, before in cpu_before.items()}
        total = sum(len(timings[path]) for path, _ in PAGES) + len(uploads)
        print()
        print(
            f"Browsing, {len(candidates)} concurrent candidates, {total / args.duration:.0f} pages/s "
            f"(machine load average {load_before} before, {load_average()} after; {os.cpu_count()} CPUs):"
        )
        for path, _ in PAGES:
            print(f"  GET {path:22s} {summary(timings[path])}")
        print("  of which, measured inside the web app (Server-Timing):")
        print(f"    dashboard, app time     {summary(timings['/espace [app]'])}")
        print(f"    dashboard, view query   {summary(timings['/espace [query]'])}")
        if uploads:
            print(f"  POST /espace/pieces (5 MB) {summary(uploads)}")
        print(
            "  CPU per page served (uploads included), by process: "
            + ", ".join(f"{name} {1000 * used / total:.1f} ms" for name, used in cpu_used.items())
        )
        dashboard_p99 = percentile([t * 1000 for t in timings["/espace"]], 99)
        print()
        print(
            f"  dashboard p99: {dashboard_p99:.1f} ms (target <= {DASHBOARD_P99_MS} ms) "
            f"{'OK' if dashboard_p99 <= DASHBOARD_P99_MS else 'MISSED'}"
        )
        if uploads:
            upload_max = max(uploads) * 1000
            print(
                f"  5 MB upload: median {statistics.median(uploads) * 1000:.0f} ms, max {upload_max:.0f} ms "
                f"(target < 1000 ms) {'OK' if upload_max < 1000 else 'MISSED'}"
            )
        print()

        # 2. Saturation, for information.
        if args.saturation > 0:
            hammered: dict[str, list[float]] = defaultdict(list)
            until = time.monotonic() + args.saturation
            say(
                f"Saturation: {len(candidates)} candidates asking for the dashboard back to back "
                f"for {args.saturation} s..."
            )
            await asyncio.gather(*(hammer(c, until, hammered) for c in candidates))
            n = len(hammered["/espace"])
            print(f"  Saturation: {n / args.saturation:.0f} dashboards/s; GET /espace {summary(hammered['/espace'])}")
            print(f"    app time {summary(hammered['/espace [app]'])}")
            print(f"    query    {summary(hammered['/espace [query]'])}")
        for c in candidates:
            await c.http.aclose()
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()
        await env.shutdown()
        shutil.rmtree(data_dir, ignore_errors=True)


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=50)
    parser.add_argument("--duration", type=int, default=30, help="seconds of browsing")
    parser.add_argument("--uploads", type=int, default=20, help="5 MB uploads during the browsing")
    parser.add_argument("--saturation", type=int, default=10, help="seconds of back-to-back dashboards (0: skip)")
    parser.add_argument(
        "--client-nice",
        type=int,
        default=10,
        help="lower this process's priority once the servers run, so the simulated candidates "
        "do not take the servers' CPU (0: same priority)",
    )
    parser.add_argument(
        "--web-processes",
        type=int,
        default=default_web_processes(),
        help="uvicorn processes, as the run command starts them (default: one per core, at most 4)",
    )
    parser.add_argument("--verbose", action="store_true", help="show the worker's and web app's output")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
