"""Deadline night: N candidates validate in the last W seconds before a real validation deadline.

Run (600 candidates: about 5 minutes on 2 cores, 2,000: about 15; no network needed):

    .venv/bin/python -m bench.deadline_surge --candidates 600 --window 60 --login-share 0.5
    .venv/bin/python -m bench.deadline_surge --candidates 100 --window 20     # a quick check
    .venv/bin/python -m bench.deadline_surge --help

Not a test: it prints figures about this machine (issue 10's targets: for 2,000 candidates in the
last 60 s, half of them logging in: 0 lost, 0 squeezed, 0 HTTP 5xx, validation POST p99 <= 5 s,
login POST p99 <= 2 s; for 5,000: still 0 lost).

What runs, all on 127.0.0.1 and thrown away at the end, as `scripts/dev.sh` starts it:
- the Temporal dev server (CLI binary, on a SQLite file; `--in-memory` for none), with the
  project's search attributes;
- the SMTP sink (`bench.common.CountingSink`, in this process, on its own thread);
- one production worker process (`worker.main`, through `bench.worker_process`);
- the web app, `uvicorn web.app:app` with the run command's arguments (access log on) and as many
  processes as it starts (one per core; --web-processes), its output kept in the work directory
  and summarised at the end (exceptions, 5xx answers). As in production behind the centre's
  reverse proxy, it trusts what the proxy says from 127.0.0.1 only: the client's address
  (X-Forwarded-For: each candidate comes from its own address; --addresses N spreads them over N
  addresses, 1 puts everyone behind one NAT, so the per-address login limits see what they would
  see on the night) and the instant the proxy received the request (X-Request-Start, which the
  simulated browsers stamp as they send; --no-proxy-stamp leaves it out, and the web app's own
  instant decides, as without a proxy).

Preparation (not measured): a campaign whose validation deadline is a real instant a little
after the preparation ends (--lead, estimated from N), N accounts written straight into the app's
database with one argon2id hash made by the app's `hash_password` (pre-registration's hashing is
not what is measured), N dossiers started through `WorkflowClient.start_dossier` (as the
pre-registration does), at most 64 at a time, and their pre-registration emails awaited. The
candidates who do not log in during the window are already logged in: by default their session
cookie is issued with the app's own `SessionTokens` (as tests/web/pages.log_in_as does, and
checked against the login page); `--prelogin page` logs them in through the login page instead
(about 0.4 s of CPU each).

The surge: each candidate acts at a random instant of the last --window seconds, as a browser
does, with its own cookies and connections: a --login-share of them open the login page, post
it (CSRF token, dossier number, password) and follow the redirect to their dashboard; then every
one opens /espace/validation, ticks the sworn-statement box and posts the form with its CSRF token
(then follows the redirect). The simulated candidates run at lower priority (--client-nice).

Printed: validations sent before the deadline and not accepted (lost: the POST left before the
deadline and the dossier did not end validated), candidates squeezed out (started --squeeze
seconds or more before the deadline and could not send their validation before it), HTTP 5xx
and dropped connections or timeouts, the answers to the validation POST (303 recorded, 202
received and being recorded, 409 refused...), latency percentiles of the login and validation
POSTs, final statuses once every dossier has settled, the machine's load and CPU per process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import ssl
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from temporalio.client import Client

from bench.common import (
    CountingSink,
    CpuWatch,
    WebProcess,
    WorkerProcess,
    app_environment,
    csrf_token,
    dev_server_pids,
    free_port,
    load,
    record_stacks,
    rss_mib,
    say,
    seconds_summary,
    start_dev_server,
    stop_recording,
    uptime,
    wait_until,
)
from devtools.mail_sink import start as start_mail_sink
from devtools.samples import registration
from domain.campaign import RECEIPT_DELAY, Campaign
from domain.registration import Registrant, dossier_number
from domain.status import Status
from infra.database import Account, Database, save_campaign
from infra.settings import Settings, default_web_processes
from tests.factories import campaign as make_campaign
from web.deps import CANDIDATE, SESSION_COOKIE
from web.security import SessionTokens, hash_password
from workflows import names
from workflows.client import WorkflowClient

PASSWORD = "Banc-d-essai-2027!"  # every account's: one hash, made once
VALIDATED = frozenset({Status.TRANSFERRING, Status.IN_INSTRUCTION})
START_CONCURRENCY = 64


@dataclass
class Candidate:
    number: str
    logs_in: bool
    at: float  # time.time() at which the candidate starts
    address: str = "127.0.0.1"  # the client address the reverse proxy reports (X-Forwarded-For)
    http: httpx.AsyncClient | None = None
    started: float | None = None
    login_latency: float | None = None
    post_sent: float | None = None
    post_latency: float | None = None
    post_status: int | None = None
    outcome: str = "not started"
    answers: Counter[str] = field(default_factory=Counter)  # "step HTTP code" or "step dropped/timeout"


class Surge:
    def __init__(self, args: argparse.Namespace, base_url: str, deadline: float, ssl_context: ssl.SSLContext) -> None:
        self.args = args
        self.base_url = base_url
        self.deadline = deadline
        self.ssl = ssl_context
        self.latencies: dict[str, list[float]] = {}

    def client(self, c: Candidate) -> httpx.AsyncClient:
        # One client per candidate: its own cookies and connections, as a browser; its address
        # as the centre's reverse proxy would pass it on (the web trusts it from this machine).
        return httpx.AsyncClient(
            base_url=self.base_url,
            timeout=self.args.http_timeout,
            verify=self.ssl,
            headers={"X-Forwarded-For": c.address},
        )

    async def request(self, c: Candidate, step: str, method: str, url: str, **kwargs) -> httpx.Response:
        assert c.http is not None
        began = time.time()
        if step == "validation POST":
            c.post_sent = began
        if self.args.proxy_stamp:
            # What the centre's reverse proxy adds (nginx: `t=${msec}`): when it received the
            # request, here when the browser sent it (the proxy's own delay is not simulated).
            kwargs["headers"] = {**kwargs.get("headers", {}), "X-Request-Start": f"t={began:.3f}"}
        try:
            try:
                response = await c.http.request(method, url, **kwargs)
            except (httpx.ReadError, httpx.RemoteProtocolError) as exc:
                if method != "GET":
                    raise
                # A browser sends an idempotent request again when its kept-alive connection was
                # closed under it; the drop is still counted.
                c.answers[f"{step}: dropped ({type(exc).__name__}), sent again"] += 1
                response = await c.http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            c.answers[f"{step}: timeout"] += 1
            raise
        except httpx.TransportError as exc:
            c.answers[f"{step}: dropped ({type(exc).__name__})"] += 1
            raise
        elapsed = time.time() - began
        self.latencies.setdefault(step, []).append(elapsed)
        c.answers[f"{step}: HTTP {response.status_code}"] += 1
        if step == "login POST":
            c.login_latency = elapsed
        elif step == "validation POST":
            c.post_latency, c.post_status = elapsed, response.status_code
        return response

    async def follow(self, c: Candidate, response: httpx.Response, step: str) -> None:
        """What the browser does with a 303: load the page it names."""
        if response.status_code in (301, 302, 303) and "location" in response.headers:
            await self.request(c, step, "GET", response.headers["location"])

    async def act(self, c: Candidate) -> None:
        await asyncio.sleep(max(0.0, c.at - time.time()))
        c.started = time.time()
        if c.http is None:
            c.http = self.client(c)
        step = "start"
        try:
            if c.logs_in:
                step = "login page"
                page = await self.request(c, step, "GET", "/connexion")
                step = "login POST"
                response = await self.request(
                    c,
                    step,
                    "POST",
                    "/connexion",
                    data={"dossier_number": c.number, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
                )
                if response.status_code != 303:
                    c.outcome = f"login refused (HTTP {response.status_code})"
                    return
                await self.follow(c, response, "dashboard after login")
            step = "validation page"
            page = await self.request(c, step, "GET", "/espace/validation")
            if page.status_code != 200:
                c.outcome = f"validation page HTTP {page.status_code}"
                return
            if 'name="sworn_statement"' not in page.text:
                c.outcome = "validation page without the form (deadline passed)"
                return
            step = "validation POST"
            response = await self.request(
                c,
                step,
                "POST",
                "/espace/validation",
                data={"sworn_statement": "oui", "csrf_token": csrf_token(page.text)},
            )
            c.outcome = f"validation POST HTTP {response.status_code}"
            await self.follow(c, response, "dashboard after validation")
        except httpx.TimeoutException:
            c.outcome = f"{step}: no answer within {self.args.http_timeout:g} s"
        except httpx.TransportError as exc:
            c.outcome = f"{step}: connection dropped ({type(exc).__name__})"
        except RuntimeError as exc:  # no CSRF token in a page
            c.outcome = f"{step}: {exc}"
        finally:
            await c.http.aclose()


# --------------------------------------------------------------------------- preparation
def client_address(index: int) -> str:
    """A distinct IPv4 address per index, in the carrier-grade NAT range 100.64.0.0/10."""
    return f"100.{64 + index // 65536 % 64}.{index // 256 % 256}.{index % 256}"


async def write_accounts(database: Database, campaign: Campaign, numbers: list[str], password_hash: str) -> None:
    """The account rows the pre-registration would write (its argon2 hashing left out)."""
    async with database.sessions() as session:
        for index, number in enumerate(numbers):
            reg = registration(campaign, number, index)
            session.add(
                Account(
                    dossier_number=number,
                    campaign_id=campaign.id,
                    grade=campaign.grade,
                    person_key=Registrant.of(campaign, reg.candidate).person_key,
                    email=reg.candidate.email.lower(),
                    password_hash=password_hash,
                )
            )
        await session.commit()


async def start_dossiers(gateway: WorkflowClient, campaign: Campaign, numbers: list[str]) -> None:
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def one(index: int, number: str) -> None:
        async with gate:
            await gateway.start_dossier(registration(campaign, number, index))

    await asyncio.gather(*(one(i, n) for i, n in enumerate(numbers)))


async def log_in_through_page(surge: Surge, candidates: list[Candidate]) -> None:
    """The pre-logged-in candidates' logins, two at a time (argon2id: about 0.4 s of CPU each)."""
    gate = asyncio.Semaphore(2)

    async def one(c: Candidate) -> None:
        async with gate:
            assert c.http is not None
            page = await c.http.get("/connexion")
            response = await c.http.post(
                "/connexion",
                data={"dossier_number": c.number, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
            )
            if response.status_code != 303:
                raise SystemExit(f"login of {c.number} before the window failed: HTTP {response.status_code}")

    await asyncio.gather(*(one(c) for c in candidates))


async def check_logged_in(c: Candidate) -> None:
    """The login page sends a logged-in candidate to their space: the cookie works."""
    assert c.http is not None
    response = await c.http.get("/connexion")
    if response.status_code != 303:
        raise SystemExit(
            "a session cookie issued with SessionTokens is not accepted by the web app "
            "(has the login changed?): run with --prelogin page"
        )


async def statuses(client: Client, campaign_id: str) -> dict[str, Status]:
    """Every dossier's status as visibility lists it (the workflow upserts it)."""
    found: dict[str, Status] = {}
    async for execution in client.list_workflows(f"{names.CAMPAIGN.name} = '{campaign_id}'"):
        value = execution.typed_search_attributes.get(names.STATUS)
        found[execution.id] = Status(value) if value else Status.AWAITING_DOSSIER
    return found


async def settle(client: Client, campaign_id: str, total: int, timeout: float) -> dict[str, Status]:
    """Wait until no dossier waits for its validation any more (validated or cancelled)."""
    waiting = f"{names.CAMPAIGN.name} = '{campaign_id}' AND {names.STATUS.name} = '{Status.AWAITING_DOSSIER}'"
    until = time.monotonic() + timeout
    while True:
        left = (await client.count_workflows(waiting)).count
        if left == 0 or time.monotonic() > until:
            break
        await asyncio.sleep(1)
    await asyncio.sleep(2)  # visibility lags the workflows a little
    found = await statuses(client, campaign_id)
    if left:
        say(f"  {left} dossiers still waiting for their validation {timeout:.0f} s after the deadline")
    if len(found) != total:
        say(f"  visibility lists {len(found)} dossiers of {total}")
    return found


# --------------------------------------------------------------------------- report
def report(
    args: argparse.Namespace,
    candidates: list[Candidate],
    surge: Surge,
    final: dict[str, Status],
    deadline: float,
    cpu: str,
    web: WebProcess,
    worker: WorkerProcess,
    sink: CountingSink,
    load_before: str,
) -> None:
    def status_of(c: Candidate) -> Status | None:
        return final.get(names.dossier_workflow_id(c.number))

    sent = [c for c in candidates if c.post_sent is not None and c.post_sent < deadline]
    lost = [c for c in sent if status_of(c) not in VALIDATED]
    squeezed = [
        c
        for c in candidates
        if c.started is not None
        and c.started <= deadline - args.squeeze
        and (c.post_sent is None or c.post_sent >= deadline)
    ]
    answers: Counter[str] = Counter()
    for c in candidates:
        answers.update(c.answers)
    five_xx = sum(n for k, n in answers.items() if ": HTTP 5" in k)
    dropped = sum(n for k, n in answers.items() if ": dropped" in k)
    timeouts = sum(n for k, n in answers.items() if ": timeout" in k)
    received = [c for c in candidates if c.post_status == 202]
    n = len(candidates)
    logging_in = sum(1 for c in candidates if c.logs_in)

    print()
    print(
        f"DEADLINE SURGE: {n} candidates in the last {args.window:g} s before the deadline, "
        f"{logging_in} of them logging in first ({os.cpu_count()} cores; {web.processes} web process(es), one worker)"
    )
    print(
        "  instant of receipt: "
        + (
            "the proxy's (X-Request-Start, stamped when each request is sent)"
            if args.proxy_stamp
            else "the web app's own (no proxy stamp)"
        )
    )
    print(f"  machine before the window: {load_before}")
    print(f"  machine after settling:    {uptime()}")
    print(f"  validations sent before the deadline:            {len(sent)}")
    print(f"  ... and not accepted (LOST):                     {len(lost)}")
    for what, count in Counter(f"{c.outcome} -> {status_of(c)}" for c in lost).most_common(6):
        print(f"        {count:5d} x {what}")
    if lost:
        early = sorted(deadline - c.post_sent for c in lost if c.post_sent is not None)
        print(f"        sent this long before the deadline: {seconds_summary(early)}")
    print(f"  squeezed out (started >= {args.squeeze:g} s before, not sent in time): {len(squeezed)}")
    for what, count in Counter(c.outcome for c in squeezed).most_common(6):
        print(f"        {count:5d} x {what}")
    print(
        f"  HTTP 5xx: {five_xx}; connections dropped: {dropped}; no answer within {args.http_timeout:g} s: {timeouts}"
    )
    print(
        f"  HTTP 202 (received, being recorded): {len(received)}, of which ended validated: "
        f"{sum(1 for c in received if status_of(c) in VALIDATED)}"
    )
    print("  outcome per candidate:")
    for what, count in Counter(c.outcome for c in candidates).most_common():
        print(f"        {count:5d} x {what}")
    print("  answers per step:")
    for what, count in sorted(answers.items()):
        print(f"        {count:5d} x {what}")
    print("  latencies (seconds):")
    for step in ("login POST", "validation POST", "login page", "dashboard after login", "validation page"):
        if step in surge.latencies:
            print(f"    {step:24s} {seconds_summary(surge.latencies[step])}")
    print("  final statuses (after the deadline, dossiers settled):")
    for status, count in Counter(final.values()).most_common():
        print(f"        {count:5d} x {status} ({status.label})")
    print(f"  emails received by the sink, by kind: {dict(sink.subjects())}")
    print(f"  CPU from the window's start until every candidate was done: {cpu}")
    rss, peak = rss_mib(worker.pid)
    print(f"  worker VmRSS {rss:.0f} MiB (peak {peak:.0f} MiB)")
    problems = web.problems()
    if problems:
        print("  web log (exceptions and 5xx answers):")
        for what, count in problems.most_common(8):
            print(f"        {count:5d} x {what}")
    worker_problems = worker.problems()
    if worker_problems:
        print("  worker log:")
        for what, count in worker_problems.most_common(5):
            print(f"        {count:5d} x {what}")


# --------------------------------------------------------------------------- main
async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-deadline-surge-"))
    rng = random.Random(args.seed)
    sink = CountingSink()
    smtp_port = free_port()
    smtp = start_mail_sink(sink, port=smtp_port)
    say(f"{os.cpu_count()} CPU(s), {load()}; work directory {workdir}")
    env = await start_dev_server(db_file=None if args.in_memory else workdir / "temporal.db")
    target = env.client.service_client.config.target_host
    environ = app_environment(workdir, target, smtp_port, f"bench-surge-{uuid.uuid4().hex[:8]}")
    worker = WorkerProcess(environ, workdir / "worker.log")
    web = WebProcess(environ, workdir / "web.log", behind_proxy=True, processes=args.web_processes)
    database = Database(f"sqlite+aiosqlite:///{workdir / 'inscriptions.db'}")
    try:
        await database.migrate()
        # The product's receipt delay (the test factory's default is 2 s): on-time clicks may reach
        # their dossier that late, and dossiers not validated are cancelled only after it.
        campaign = make_campaign(
            deadline_in=timedelta(hours=2), reminders=[], receipt_delay=timedelta(seconds=args.receipt_delay)
        )  # deadline set below
        async with database.sessions() as session:
            await save_campaign(session, campaign)
        await worker.start()
        await web.start()
        say(
            f"Dev server on {target}, worker (pid {worker.pid}), web app on {web.base_url} "
            f"({web.processes} process(es), pids {web.pids})"
        )

        numbers = [dossier_number(campaign, i) for i in range(1, args.candidates + 1)]
        password_hash = await asyncio.to_thread(hash_password, PASSWORD)
        await write_accounts(database, campaign, numbers, password_hash)
        surge = Surge(args, web.base_url, 0.0, ssl.create_default_context())
        logs_in = set(rng.sample(numbers, round(args.login_share * len(numbers))))
        candidates = [
            Candidate(n, n in logs_in, 0.0, client_address(i % args.addresses)) for i, n in enumerate(numbers)
        ]
        already = [c for c in candidates if not c.logs_in]
        for c in already:
            c.http = surge.client(c)
        if args.prelogin == "token":
            settings = Settings()  # this process's INSCRIPTIONS_* environment: the web app's
            tokens = SessionTokens(settings.secret_key, settings.session_hours * 3600)
            for c in already:
                assert c.http is not None
                c.http.cookies.set(SESSION_COOKIE, tokens.issue(CANDIDATE + c.number, password_hash))
            if already:
                await check_logged_in(already[0])
        else:
            began = time.monotonic()
            await log_in_through_page(surge, already)
            say(f"{len(already)} candidates logged in through the login page ({time.monotonic() - began:.0f} s)")

        start_cost = args.start_cost or (0.15 if args.in_memory else 0.35)
        lead = args.lead or args.window + 20 + args.candidates * start_cost
        deadline_at = datetime.now(UTC) + timedelta(seconds=lead)
        campaign.validation_deadline = deadline_at
        campaign.registration_closes_at = min(campaign.registration_closes_at, deadline_at)
        async with database.sessions() as session:
            await save_campaign(session, campaign)
        await database.dispose()
        deadline = deadline_at.timestamp()
        surge.deadline = deadline
        say(f"Validation deadline in {lead:.0f} s ({deadline_at:%H:%M:%S} UTC); starting {len(numbers)} dossiers...")
        began = time.monotonic()
        await start_dossiers(WorkflowClient(env.client, environ["INSCRIPTIONS_TASK_QUEUE"]), campaign, numbers)
        expected = dict.fromkeys(numbers, 1)  # the pre-registration email
        await wait_until(lambda: sink.complete(expected) == len(numbers), deadline - args.window)
        prepared = time.monotonic() - began
        say(
            f"{len(numbers)} dossiers started, {sink.complete(expected)} pre-registration emails out ({prepared:.0f} s)"
        )
        if time.time() > deadline - args.window - 2:
            raise SystemExit(
                f"the preparation ended {time.time() - (deadline - args.window):.0f} s into the window: "
                f"rerun with a longer --lead (it took {prepared:.0f} s for {len(numbers)} dossiers)"
            )
        for c in candidates:
            c.at = deadline - rng.uniform(0, args.window)

        if args.client_nice:
            # The servers were started at normal priority; this thread (the simulated candidates)
            # steps back, as if the candidates' browsers ran on other machines. The SMTP sink's
            # thread, started earlier, keeps its priority (Linux nice is per thread).
            os.nice(args.client_nice)
        await asyncio.sleep(max(0.0, deadline - args.window - time.time()))
        load_before = uptime()
        pids = {
            "web": web.pids,
            "worker": [worker.pid],
            "dev server": dev_server_pids(),
            "bench client + SMTP sink": [os.getpid()],
        }
        cpu = CpuWatch(pids)
        profilers = record_stacks({"web": web.pids, "worker": [worker.pid]})
        say(f"Window open: {len(candidates)} candidates until the deadline; {load_before}")
        tasks = [asyncio.create_task(surge.act(c)) for c in candidates]
        await asyncio.sleep(max(0.0, deadline - time.time()))
        say(f"Deadline passed; {sum(1 for t in tasks if not t.done())} candidates still waiting for answers")
        cap = deadline + 4 * args.http_timeout - time.time()
        _, pending = await asyncio.wait(tasks, timeout=max(1.0, cap))
        for task in pending:
            task.cancel()
        cpu_surge = cpu.seconds()
        stop_recording(profilers)
        say(f"Every candidate done ({len(pending)} cut short); waiting for the dossiers to settle...")
        final = await settle(env.client, campaign.id, len(numbers), args.settle_timeout)
        cpu_text = f"{cpu_surge}\n    until settled: {cpu.seconds()}"
        say(f"Settled {time.time() - deadline:.0f} s after the deadline")
        report(args, candidates, surge, final, deadline, cpu_text, web, worker, sink, load_before)
    finally:
        await web.stop()
        await worker.stop()
        await database.dispose()
        await env.shutdown()
        smtp.stop()
        if args.keep_workdir:
            say(f"Kept {workdir} (web.log, worker.log, databases)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.deadline_surge",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--candidates", type=int, default=600, help="candidates acting in the window (600)")
    parser.add_argument("--window", type=float, default=60, help="seconds before the deadline they act in (60)")
    parser.add_argument("--login-share", type=float, default=0.5, help="share logging in first (0.5)")
    parser.add_argument(
        "--squeeze", type=float, default=15, help="started this many seconds before the deadline or more (15)"
    )
    parser.add_argument(
        "--addresses",
        type=int,
        default=0,
        help="distinct client addresses the candidates come from (0: one each; 1: all behind one NAT)",
    )
    parser.add_argument("--http-timeout", type=float, default=120, help="seconds a browser waits for an answer (120)")
    parser.add_argument(
        "--prelogin",
        choices=("token", "page"),
        default="token",
        help="how the candidates not logging in during the window were logged in before it (token)",
    )
    parser.add_argument("--lead", type=float, default=0, help="seconds from preparation to deadline (0: estimated)")
    parser.add_argument(
        "--start-cost",
        type=float,
        default=0,
        help="seconds per dossier for the --lead estimate (0: 0.35 on a SQLite file, 0.15 in memory)",
    )
    parser.add_argument(
        "--receipt-delay",
        type=float,
        default=RECEIPT_DELAY.total_seconds(),
        help="the campaign's receipt delay in seconds (the product's default: 300)",
    )
    parser.add_argument(
        "--settle-timeout",
        type=float,
        default=600,
        help="seconds to wait for the dossiers after the deadline, receipt delay included (600)",
    )
    parser.add_argument(
        "--client-nice",
        type=int,
        default=10,
        help="lower the simulated candidates' priority once the servers run (0: same priority)",
    )
    parser.add_argument(
        "--web-processes",
        type=int,
        default=default_web_processes(),
        help="web processes sharing the port, as the run command starts them (WEB_CONCURRENCY, else one per core)",
    )
    parser.add_argument(
        "--no-proxy-stamp",
        dest="proxy_stamp",
        action="store_false",
        help="send no X-Request-Start (the default, as a proxy would, stamps each request when it is sent): "
        "deadlines are then judged by when the web app itself starts each request",
    )
    parser.add_argument("--in-memory", action="store_true", help="dev server in memory instead of a SQLite file")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--keep-workdir", action="store_true", help="keep the logs and databases for inspection")
    args = parser.parse_args(argv)
    if args.candidates < 1 or args.window <= 0 or not 0 <= args.login_share <= 1:
        parser.error("--candidates >= 1, --window > 0, 0 <= --login-share <= 1")
    if args.addresses <= 0:
        args.addresses = args.candidates
    return args


def main() -> None:
    asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
