"""Fault drill on the production-like stack: a campaign driven through faults; prints figures.

    .venv/bin/python -m devtools.fault_drill --dossiers 1000      (scripts/prod_stack.sh sets up first)

A fresh stack (devtools/prod_stack.py: Temporal server on PostgreSQL, 2 web processes, 2 workers,
the mail sink) and a campaign whose validation deadline is a few minutes ahead, with a short
receipt delay. N candidates then go through it as they would:

1. pre-registration over HTTP, alternating between the two web processes;
2. login and validation over HTTP (two dossiers in three); half of the validated candidates ask
   for exam accommodations (the dossier's Update, as the web sends it);
3. the deadline: the dossiers not validated are cancelled by their own timer;
4. staff decisions on the accommodation requests (granted or refused), through the WorkflowClient;
5. from the start, alongside 1 and 2: instruction decisions (complete, incomplete with a
   regularisation request, rejected) by instructors logged in to the back office, over HTTP as
   they work: each dossier's page read on one web process, the decision form posted to the other.
   A validated dossier only goes under instruction at 8:30 on the next working day, which a real
   server cannot skip; so --instruction dossiers (a fifth of --dossiers by default) are started
   already under instruction, in another campaign, by `devtools.prompt_instruction` (the real
   dossier workflow, started at that status) run by two more worker processes on their own task
   queue, « prompt 1 » and « prompt 2 ». Everything from the decision on is the product's code:
   the staff pages, the Update, the letter printed and deposited, the mails.

Meanwhile: worker 1 and prompt 1 (one host) are killed with SIGKILL every --kill-every seconds
(restarted 5 s later); web 2 is killed with SIGKILL while requests are in flight (restarted 5 s
later); the Temporal server is restarted once, during validation; the SMTP sink answers 451 to
every message for --outage seconds. Clients retry what failed, as a browser user would (a
pre-registration whose answer was lost is sent again; the dossier that the lost request may have
created stays, unvalidated, and is cancelled at the deadline like any other: it is counted apart).

Figures: transitions lost (the state each client was told it reached vs the workflow's state at the
end: must be 0), e-mails sent twice or never (copies per idempotence key in the sink vs the mails
each dossier should have queued: must be 0), failed workflow tasks (WorkflowTaskFailed / TimedOut
events in the histories), HTTP errors the clients saw, time per phase, the machine's load.
A mail sent twice is told apart when a worker log says it was sent again on purpose (an attempt
cut off during DATA, activities/mail.py): that one is the documented choice, not a loss of
idempotence; the duration of that uncertain stretch is measured from the workers' logs.
"""

from __future__ import annotations

import argparse
import asyncio
import email.parser
import email.policy
import hashlib
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType, TimeoutType, WorkflowTaskFailedCause
from temporalio.service import RPCError

from devtools.prod_stack import Stack, say
from devtools.prompt_instruction import dossiers_at, wait_for_status_count
from devtools.restore_drill import client_settings, gather_limited
from devtools.run_local import web_command
from domain.accommodations import (
    CERTIFICATE_CATEGORY,
    AccommodationDecision,
    AccommodationKind,
    AccommodationOutcome,
    AccommodationRequest,
)
from domain.calendar import to_local
from domain.decisions import DecisionKind
from domain.documents import UploadedDocument
from domain.dossier import Refusal
from domain.status import Status
from infra.database import Database, save_campaign
from infra.smtp import message_id
from infra.staff_accounts import StaffRole
from infra.temporal import connect
from ops.staff_cli import create_account
from tests.factories import campaign as make_campaign
from workflows import names
from workflows.client import Pending, Unavailable, WorkflowClient
from workflows.dossier import DossierWorkflow

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PASSWORD = "Drill-Secret-2027"
RECEIPT_DELAY = timedelta(seconds=10)
RETRY_FOR = 300.0  # seconds a client keeps retrying one action (the server restart is well within)
INSTRUCTION_QUEUE = "drill-instruction"  # the prompt-instruction workers' task queue
STAFF_PASSWORD = "Exercice-Instruction-2027"
INSTRUCTORS = 3
STAFF_PACE = 2.0  # seconds an instructor reads a dossier before deciding: spreads decisions over the kills
# What each instruction decision should leave: the status, and the mails it queues (incomplete and
# rejected: the decision's mail, then the « document » mail of its letter, deposited).
DECISIONS = {
    DecisionKind.COMPLETE: (Status.COMPLETE, 0),
    DecisionKind.INCOMPLETE: (Status.INCOMPLETE, 2),
    DecisionKind.REJECT: (Status.REJECTED, 2),
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SENT_AGAIN = re.compile(r"Mail (\S+) sent again")
UNCERTAIN = re.compile(r"uncertain for ([0-9.]+) ms \(DATA ([0-9.]+) ms, record ([0-9.]+) ms\)")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


class DrillStack(Stack):
    """The production-like stack, except that every drill candidate comes from 127.0.0.1: the
    per-address pre-registration limit (20 an hour, meant for one household's address behind the
    load balancer) would stop the campaign at its 21st candidate."""

    def app_env(self) -> dict[str, str]:
        return {**super().app_env(), "INSCRIPTIONS_PREREGISTRATIONS_PER_ADDRESS": "1000000"}


@dataclass
class Candidate:
    index: int
    email: str
    number: str | None = None  # the number the web answered with
    validated: bool = False  # the web said so (200, or 409 « déjà validée » after a lost answer)
    validation_refused: str = ""  # a 409 the candidate was shown (e.g. the deadline had passed)
    asked_accommodations: bool = False
    decision: AccommodationOutcome | None = None


@dataclass
class Instructed:
    """A dossier started under instruction, and the decision staff take on it."""

    index: int
    number: str
    kind: DecisionKind
    prepared_mails: int = 0  # mails the preparation counted (never sent): the decision's come after
    decided: bool = False  # the web answered the decision form with its redirect (303)
    refused: str = ""  # or the refusal it showed
    decided_at: float = 0.0  # drill clock


@dataclass
class Figures:
    http: Counter[str] = field(default_factory=Counter)  # errors the clients saw, by kind
    temporal: Counter[str] = field(default_factory=Counter)  # WorkflowClient calls retried
    faults: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    loads: list[str] = field(default_factory=list)


class Drill:
    def __init__(
        self, stack: Stack, count: int, lead: float, outage: float, kill_every: float, instruction: int
    ) -> None:
        self.stack = stack
        self.count = count
        self.instruction_count = instruction
        self.instructed: list[Instructed] = []
        self.lead = lead
        self.outage = outage
        self.kill_every = kill_every
        self.figures = Figures()
        self.webs = [f"http://127.0.0.1:{p}" for p in stack.ports.webs]
        self.outage_file = stack.directory / "mail-outage"
        self.tag = secrets.token_hex(3)
        self.candidates = [Candidate(i, f"faults.{self.tag}.{i}@example.fr") for i in range(count)]
        self.progress: Counter[str] = Counter()
        self.chaos_done = asyncio.Event()
        self.began = time.monotonic()

    def clock(self) -> str:
        return f"+{time.monotonic() - self.began:5.0f} s"

    def fault(self, text: str) -> None:
        self.figures.faults.append(f"{self.clock()} {text}")
        say(f"  [fault {self.clock()}] {text}")

    # ------------------------------------------------------------------ faults
    async def kill_worker(self) -> None:
        await asyncio.gather(
            asyncio.to_thread(self.stack.stop_process, "worker1", signal.SIGKILL),
            asyncio.to_thread(self.stack.stop_process, "prompt1", signal.SIGKILL),
        )
        self.fault("worker 1 and prompt 1 killed (SIGKILL)")
        await asyncio.sleep(5)
        self.spawn_worker("worker1")
        self.spawn_worker("prompt1")
        self.fault("worker 1 and prompt 1 restarted")

    def spawn_worker(self, name: str) -> None:
        if name.startswith("prompt"):
            env = {**self.stack.app_env(), "INSCRIPTIONS_TASK_QUEUE": INSTRUCTION_QUEUE}
            self.stack.spawn(name, [sys.executable, "-m", "devtools.prompt_instruction"], env)
        else:
            self.stack.spawn(name, [sys.executable, "worker.py"], self.stack.app_env())

    async def kill_web(self) -> None:
        in_flight = self.in_flight[1]
        await asyncio.to_thread(self.stack.stop_process, "web2", signal.SIGKILL)
        self.fault(f"web 2 killed (SIGKILL) with {in_flight} requests in flight on it")
        await asyncio.sleep(5)
        proc = self.stack.spawn("web2", web_command(self.stack.ports.webs[1]), self.stack.app_env())
        await asyncio.to_thread(self.stack.wait_port, self.stack.ports.webs[1], "web2", proc)
        self.fault("web 2 restarted and listening")

    async def restart_temporal(self) -> None:
        self.fault("Temporal server stopping (SIGTERM)")
        await asyncio.to_thread(self.stack.stop_process, "temporal")
        await asyncio.to_thread(self.stack.start_temporal)
        self.fault("Temporal server restarted and healthy")

    async def mail_outage(self) -> None:
        self.outage_file.touch()
        self.fault(f"SMTP sink refuses every message with 451 for {self.outage:.0f} s")
        await asyncio.sleep(self.outage)
        self.outage_file.unlink()
        self.fault("SMTP sink takes mail again")

    async def chaos(self) -> None:
        """Worker kills on a period; the other faults when the campaign reaches given points."""
        pending = {"web", "temporal", "mail"}
        # Each fault runs on its own, so that one (a slow restart) does not hold up the next.
        background: list[asyncio.Task[None]] = []
        next_kill = time.monotonic() + self.kill_every / 2
        while not self.chaos_done.is_set():
            if time.monotonic() >= next_kill:
                background.append(asyncio.ensure_future(self.kill_worker()))
                next_kill = time.monotonic() + self.kill_every
            if "web" in pending and self.progress["preregistered"] >= self.count * 0.4 and self.in_flight[1]:
                pending.discard("web")
                background.append(asyncio.ensure_future(self.kill_web()))
            if "mail" in pending and self.progress["validation_started"] >= 1:
                pending.discard("mail")
                background.append(asyncio.ensure_future(self.mail_outage()))
            if "temporal" in pending and self.progress["validated"] >= self.count * 0.3:
                pending.discard("temporal")
                background.append(asyncio.ensure_future(self.restart_temporal()))
            await asyncio.sleep(0.2)
        await asyncio.gather(*background)
        if pending:
            self.fault(f"not played (the campaign moved on first): {', '.join(sorted(pending))}")

    # ------------------------------------------------------------------ clients
    async def http(
        self, client: httpx.AsyncClient, index: int, method: str, path: str, ok: Callable[[httpx.Response], bool], **kw
    ) -> httpx.Response:
        """One user action over HTTP: sent again (to either web, as through the load balancer)
        after a connection error, a 5xx or a 202 (received, not yet confirmed) until `ok`."""
        deadline = time.monotonic() + RETRY_FOR
        attempt = 0
        while True:
            web = (index + attempt) % 2
            attempt += 1
            self.in_flight[web] += 1
            try:
                response = await client.request(method, self.webs[web] + path, **kw)
            except httpx.TransportError as exc:
                self.figures.http[f"{type(exc).__name__} (web {web + 1})"] += 1
                response = None
            finally:
                self.in_flight[web] -= 1
            if response is not None:
                if ok(response):
                    return response
                self.figures.http[f"HTTP {response.status_code} (web {web + 1})"] += 1
                if response.status_code < 500 and response.status_code != 202:
                    return response  # the user reads the message; sending again would not change it
            if time.monotonic() > deadline:
                raise SystemExit(f"{method} {path}: still failing after {RETRY_FOR:.0f} s")
            await asyncio.sleep(1)

    async def temporal_call(self, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
        deadline = time.monotonic() + RETRY_FOR
        while True:
            try:
                return await call()
            except (Unavailable, Pending, RPCError) as exc:
                self.figures.temporal[f"{what}: {type(exc).__name__}"] += 1
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1)

    async def preregister(self, client: httpx.AsyncClient, c: Candidate) -> None:
        i = c.index
        form = {
            "campaign_id": self.campaign_id,
            "route": "externe",
            "civility": "Madame" if i % 2 == 0 else "Monsieur",
            "last_name": f"Le Goff-{self.tag}",
            "first_name": ["Maëlle", "Yann", "Nolwenn", "Erwan", "Soizic"][i % 5],
            "birth_date": date(1960 + i % 40, 1 + (i // 40) % 12, 1 + (i // 480) % 28).isoformat(),
            "email": c.email,
            "address_line1": "12 rue du Port",
            "postal_code": "56000",
            "city": "Vannes",
            "password": PASSWORD,
        }
        response = await self.http(client, i, "POST", "/api/preinscriptions", lambda r: r.status_code == 201, json=form)
        if response.status_code != 201:
            raise SystemExit(f"pre-registration refused: {response.status_code} {response.text[:200]}")
        c.number = response.json()["dossier_number"]
        self.progress["preregistered"] += 1

    async def validate(self, client: httpx.AsyncClient, gateway: WorkflowClient, c: Candidate) -> None:
        self.progress["validation_started"] += 1
        assert c.number is not None
        login = await self.http(
            client,
            c.index,
            "POST",
            "/api/session",
            lambda r: r.status_code == 200,
            json={"dossier_number": c.number, "password": PASSWORD},
        )
        if login.status_code != 200:
            raise SystemExit(f"login refused: {login.status_code} {login.text[:200]}")
        # Production settings: Secure cookies, which httpx would not send back over http.
        cookies = "; ".join(v.split(";", 1)[0] for v in login.headers.get_list("set-cookie"))
        headers = {"cookie": cookies, "x-csrf-token": login.json()["csrf_token"]}

        def answered(r: httpx.Response) -> bool:
            return r.status_code == 200 or (r.status_code == 409 and "déjà validée" in r.text)

        while True:
            done = await self.http(
                client,
                c.index + 1,  # the other web than the login's: nothing is kept in a process
                "POST",
                "/api/dossier/validation",
                answered,
                headers=headers,
                json={"sworn_statement": True},
            )
            # « trop ancienne … renvoyez-la » (held up past the receipt delay): the candidate
            # does as told and sends it again; after the deadline the answer says so instead.
            if not (done.status_code == 409 and "renvoyez-la" in done.text):
                break
            await asyncio.sleep(1)
        if not answered(done):
            c.validation_refused = done.json().get("detail", done.text)[:120]
            return
        c.validated = True
        self.progress["validated"] += 1
        if c.index % 2:
            return
        now = datetime.now(UTC)
        certificate = UploadedDocument(
            ref=f"drill-{c.number}",
            category=CERTIFICATE_CATEGORY,
            filename="certificat.pdf",
            size=len(PDF),
            sha256=hashlib.sha256(PDF).hexdigest(),
            content_type="application/pdf",
            uploaded_at=now,
            received_at=now,
        )
        request = AccommodationRequest([AccommodationKind.EXTRA_TIME], certificates=[certificate], received_at=now)
        number = c.number
        try:
            await self.temporal_call(
                "accommodation request",
                lambda: gateway.update(number, DossierWorkflow.request_accommodations, request),
            )
        except Refusal as refusal:
            if "déjà enregistrée" not in refusal.message:  # else: an earlier attempt was recorded
                c.validation_refused = refusal.message[:120]
                return
        c.asked_accommodations = True

    async def decide(self, gateway: WorkflowClient, c: Candidate) -> None:
        assert c.number is not None
        outcome = AccommodationOutcome.GRANTED if c.index % 4 == 0 else AccommodationOutcome.REFUSED
        reason = "" if outcome is AccommodationOutcome.GRANTED else "Certificat insuffisant (exercice de reprise)."
        decision = AccommodationDecision(outcome, reason=reason, by="exercice")
        number = c.number
        try:
            await self.temporal_call(
                "staff decision", lambda: gateway.update(number, DossierWorkflow.decide_accommodations, decision)
            )
        except Refusal as refusal:
            if "déjà été instruite" not in refusal.message:
                raise
        c.decision = outcome

    # ------------------------------------------------------------------ instruction (staff, HTTP)
    async def prepare_instruction(self, temporal: Any, database: Database) -> None:
        """The dossiers under instruction (prompt workers), and the instructors' accounts."""
        for name in ("prompt1", "prompt2"):
            self.spawn_worker(name)
        campaign = make_campaign(reminders=[])  # the factory's deadline, weeks ahead: no timer in the way
        async with database.sessions() as session:
            await save_campaign(session, campaign)
        self.instruction_campaign = campaign
        count = self.instruction_count
        numbers = await dossiers_at(
            temporal, INSTRUCTION_QUEUE, campaign, count, Status.IN_INSTRUCTION, prefix=f"I{self.tag.upper()}"
        )
        await wait_for_status_count(temporal, campaign.id, Status.IN_INSTRUCTION, count, timeout=300)
        kinds = list(DECISIONS)
        self.instructed = [Instructed(i, n, kinds[i % len(kinds)]) for i, n in enumerate(numbers)]
        gateway = WorkflowClient(temporal, INSTRUCTION_QUEUE)

        async def prepared(d: Instructed) -> None:
            # Listed at their status from the start: the query waits for each first workflow task.
            dossier = await self.temporal_call("instruction set-up query", lambda: gateway.view(d.number))
            d.prepared_mails = dossier.mails_queued

        await gather_limited((prepared(d) for d in self.instructed), limit=8)
        self.instructors = []
        for i in range(INSTRUCTORS):
            login = f"instr{self.tag}{i}"
            await create_account(database, login, f"Instructeur {i + 1}", StaffRole.INSTRUCTOR, STAFF_PASSWORD)
            self.instructors.append(login)
        say(f"  {count} dossiers under instruction ({campaign.id}), {INSTRUCTORS} instructors")

    def remember_cookies(self, jar: dict[str, str], response: httpx.Response) -> None:
        # Production cookies are Secure, which httpx would not send back over http: kept by hand.
        for header in response.headers.get_list("set-cookie"):
            name, _, value = header.split(";", 1)[0].partition("=")
            jar[name.strip()] = value

    async def instruct(self, client: httpx.AsyncClient, agent: int) -> None:
        """One instructor: logs in, then takes a decision on each of its dossiers in turn."""
        jar: dict[str, str] = {}

        def headers() -> dict[str, str]:
            return {"cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}

        form = await self.http(client, agent, "GET", "/staff/connexion", lambda r: r.status_code == 200)
        self.remember_cookies(jar, form)
        token = CSRF.search(form.text)
        assert token, "no CSRF token on the staff login page"
        login = await self.http(
            client,
            agent + 1,
            "POST",
            "/staff/connexion",
            lambda r: r.status_code == 303,
            headers=headers(),
            data={"login": self.instructors[agent], "password": STAFF_PASSWORD, "csrf_token": token.group(1)},
        )
        if login.status_code != 303:
            raise SystemExit(f"staff login refused: {login.status_code} {login.text[:300]}")
        self.remember_cookies(jar, login)
        zone = self.instruction_campaign.time_zone
        for d in self.instructed[agent::INSTRUCTORS]:
            await asyncio.sleep(STAFF_PACE)
            page = await self.http(
                client, d.index, "GET", f"/staff/dossiers/{d.number}", lambda r: r.status_code == 200, headers=headers()
            )
            self.remember_cookies(jar, page)
            token = CSRF.search(page.text)
            if page.status_code != 200 or token is None:
                d.refused = f"dossier page: HTTP {page.status_code}"
                continue
            fields: dict[str, Any] = {
                "kind": d.kind.value,
                "request_id": uuid.uuid4().hex,
                "csrf_token": token.group(1),
            }
            if d.kind is DecisionKind.INCOMPLETE:
                route = self.instruction_campaign.route("externe")  # the sample candidates' route
                assert route is not None
                fields["missing"] = [route.documents[0].code]
                deadline = datetime.now(UTC) + timedelta(days=15)
                fields["deadline"] = to_local(deadline, zone).strftime("%Y-%m-%dT%H:%M")
            elif d.kind is DecisionKind.REJECT:
                fields["reasons"] = "Diplôme requis non fourni (exercice de reprise)."
            # Posted to the other web process; sent again as is (same request ID: the same
            # Update) when the answer is lost.
            done = await self.http(
                client,
                d.index + 1,
                "POST",
                f"/staff/dossiers/{d.number}/decision",
                lambda r: r.status_code == 303,
                headers=headers(),
                data=fields,
            )
            if done.status_code == 303:
                d.decided = True
                d.decided_at = time.monotonic() - self.began
                self.progress["instructed"] += 1
            else:
                d.refused = f"HTTP {done.status_code}"

    # ------------------------------------------------------------------ the run
    async def phase(self, name: str, work: Awaitable[Any]) -> Any:
        began = time.monotonic()
        say(f"{self.clock()} {name}")
        result = await work
        self.figures.phases[name] = time.monotonic() - began
        load = uptime().split("load average:")[-1].strip()
        self.figures.loads.append(f"{name}: {load}")
        say(f"{self.clock()}   done in {self.figures.phases[name]:.0f} s (load {load})")
        return result

    async def run(self) -> bool:
        settings = client_settings(self.stack)
        database = Database(settings.database_url)
        campaign = make_campaign(deadline_in=timedelta(seconds=self.lead), reminders=[], receipt_delay=RECEIPT_DELAY)
        async with database.sessions() as session:
            await save_campaign(session, campaign)
        await database.dispose()
        self.campaign_id = campaign.id
        self.deadline = campaign.validation_deadline
        say(f"Campaign {campaign.id}: validation deadline in {self.lead:.0f} s ({self.deadline:%H:%M:%S} UTC)")
        temporal = await connect(settings)
        gateway = WorkflowClient(temporal, settings.task_queue)
        self.in_flight = [0, 0]
        database = Database(settings.database_url)
        await self.phase("instruction set-up (no fault yet)", self.prepare_instruction(temporal, database))
        await database.dispose()
        self.began = time.monotonic()
        chaos = asyncio.ensure_future(self.chaos())
        try:
            async with httpx.AsyncClient(timeout=60) as client:
                instruction = asyncio.ensure_future(
                    self.phase(
                        "instruction decisions (staff pages, HTTP, both webs), alongside",
                        asyncio.gather(*(self.instruct(client, a) for a in range(INSTRUCTORS))),
                    )
                )
                await self.phase(
                    "pre-registration (HTTP, both webs)",
                    gather_limited((self.preregister(client, c) for c in self.candidates), limit=16),
                )
                chosen = [c for c in self.candidates if c.index % 3 != 2]
                await self.phase(
                    "login + validation (HTTP) + accommodation requests",
                    gather_limited((self.validate(client, gateway, c) for c in chosen), limit=16),
                )
                await instruction
            await self.phase("the deadline and its cancellations", self.wait_deadline(gateway))
            askers = [c for c in self.candidates if c.asked_accommodations]
            await self.phase(
                "staff decisions (WorkflowClient)", gather_limited((self.decide(gateway, c) for c in askers), limit=16)
            )
        finally:
            self.chaos_done.set()
            await chaos
        self.ensure_workers()
        self.expected_mails = await self.phase("every expected mail delivered", self.wait_mails(temporal))
        return await self.phase("checks", self.check(gateway))

    def ensure_workers(self) -> None:
        running = {n for n, p in self.stack.children if p.poll() is None}
        for n in ("worker1", "worker2", "prompt1", "prompt2"):
            if n not in running:
                self.spawn_worker(n)

    async def campaign_dossiers(self, temporal: Any) -> list[str]:
        query = f'{names.CAMPAIGN.name} = "{self.campaign_id}"'
        prefix = names.dossier_workflow_id("")
        return [w.id.removeprefix(prefix) async for w in temporal.list_workflows(query)]

    async def wait_deadline(self, gateway: WorkflowClient) -> None:
        remaining = (self.deadline - datetime.now(UTC)).total_seconds()
        say(f"  deadline in {remaining:.0f} s; then the receipt delay ({RECEIPT_DELAY.seconds} s)")
        await asyncio.sleep(max(0, remaining) + RECEIPT_DELAY.seconds + 2)
        awaited = [c.number for c in self.candidates if not c.validated and c.number]
        limit = time.monotonic() + 300
        while True:
            statuses = await gather_limited((self.status(gateway, n) for n in awaited), limit=20)
            left = sum(1 for s in statuses if s is not Status.CANCELLED)
            if not left or time.monotonic() > limit:
                say(f"  {len(awaited) - left}/{len(awaited)} not validated now cancelled")
                return
            await asyncio.sleep(2)

    async def status(self, gateway: WorkflowClient, number: str) -> Status | None:
        try:
            return (await gateway.view(number)).status
        except Exception:
            return None

    def expected_mail_count(self, c: Candidate | None) -> int:
        """What each dossier queues: its number at pre-registration; then the validation's
        confirmation (and the accommodation request's receipt and decision), or the cancellation."""
        if c is None or not c.validated:
            return 2  # pre-registration, cancellation (also a dossier whose answer was lost)
        return 2 + (2 if c.asked_accommodations else 0)

    def sink_counts(self) -> Counter[str]:
        parser = email.parser.BytesHeaderParser(policy=email.policy.default)
        counts: Counter[str] = Counter()
        for sub in ("new", "cur"):
            folder = self.stack.directory / "mail" / sub
            if folder.exists():
                for path in folder.iterdir():
                    with path.open("rb") as f:
                        counts[str(parser.parse(f)["Message-ID"])] += 1
        return counts

    async def wait_mails(self, temporal: Any) -> dict[str, str]:
        """Message-ID -> idempotence key of every mail the campaign's dossiers should have sent."""
        by_number = {c.number: c for c in self.candidates if c.number}
        self.all_numbers = sorted(await self.campaign_dossiers(temporal))
        sender = client_settings(self.stack).mail_from
        expected: dict[str, str] = {}
        for number in self.all_numbers:
            for n in range(1, self.expected_mail_count(by_number.get(number)) + 1):
                key = f"{number}/{n}"
                expected[message_id(key, sender)] = key
        for d in self.instructed:
            # The preparation's own mails are dropped, never sent: only the decision's count.
            for n in range(d.prepared_mails + 1, d.prepared_mails + DECISIONS[d.kind][1] + 1):
                key = f"{d.number}/{n}"
                expected[message_id(key, sender)] = key
        limit = time.monotonic() + 900  # mail retries back off up to 10 minutes after the outage
        while True:
            counts = self.sink_counts()
            missing = sum(1 for m in expected if not counts[m])
            if not missing or time.monotonic() > limit:
                say(f"  {len(expected) - missing}/{len(expected)} expected mails in the sink")
                return expected
            await asyncio.sleep(5)

    async def check(self, gateway: WorkflowClient) -> bool:
        by_number = {c.number: c for c in self.candidates if c.number}
        orphans = [n for n in self.all_numbers if n not in by_number]
        unknown = [n for n in by_number if n not in self.all_numbers]

        kinds: Counter[str] = Counter()  # failed workflow tasks by event and cause

        async def one(number: str) -> tuple[str, Any, int]:
            dossier = await self.temporal_call("final query", lambda: gateway.view(number))
            _, history = await self.temporal_call("history", lambda: gateway.history(names.dossier_workflow_id(number)))
            failed = 0
            for e in history.events:
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    cause = WorkflowTaskFailedCause.Name(e.workflow_task_failed_event_attributes.cause)
                    kinds[f"failed {cause.removeprefix('WORKFLOW_TASK_FAILED_CAUSE_')}"] += 1
                    failed += 1
                elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                    kind = TimeoutType.Name(e.workflow_task_timed_out_event_attributes.timeout_type)
                    kinds[f"timed out {kind.removeprefix('TIMEOUT_TYPE_')}"] += 1
                    failed += 1
            return number, dossier, failed

        results = await gather_limited((one(n) for n in self.all_numbers), limit=20)
        instructed = await gather_limited((one(d.number) for d in self.instructed), limit=20)
        lost: list[str] = []
        queued_mismatch = 0
        failed_tasks = 0
        dossiers_with_failed = 0
        statuses: Counter[str] = Counter()
        for number, dossier, failed in results:
            failed_tasks += failed
            dossiers_with_failed += bool(failed)
            statuses[str(dossier.status)] += 1
            c = by_number.get(number)
            want = Status.TRANSFERRING if c is not None and c.validated else Status.CANCELLED
            acc = dossier.accommodations
            if dossier.status is not want:
                lost.append(f"{number}: {dossier.status} instead of {want}")
            elif c is not None and c.asked_accommodations and (acc is None or acc.outcome is not c.decision):
                lost.append(f"{number}: accommodations {acc.outcome if acc else None} instead of {c.decision}")
            if dossier.mails_queued != self.expected_mail_count(c) or dossier.outbox:
                queued_mismatch += 1
        decided: Counter[str] = Counter()
        undecided: list[str] = []  # a decision staff could not take (refused, page not shown)
        for d, (number, dossier, failed) in zip(self.instructed, instructed, strict=True):
            failed_tasks += failed
            dossiers_with_failed += bool(failed)
            want, mails = DECISIONS[d.kind]
            statuses[str(dossier.status)] += 1
            decided[d.kind.value] += d.decided
            if not d.decided:
                undecided.append(f"{number}: {d.refused}, now {dossier.status}")
            elif dossier.status is not want:
                lost.append(f"{number}: {dossier.status} instead of {want} (decision {d.kind.value})")
            if dossier.mails_queued != d.prepared_mails + mails or dossier.outbox:
                queued_mismatch += 1
        counts = self.sink_counts()
        twice_keys = [self.expected_mails[m] for m in self.expected_mails if counts[m] > 1]
        twice = len(twice_keys)
        worker_logs = [
            path.read_text(errors="replace")
            for pattern in ("worker*.log", "prompt*.log")
            for path in self.stack.logs.glob(pattern)
        ]
        sent_again = {key for text in worker_logs for key in SENT_AGAIN.findall(text)}
        unexplained = [k for k in twice_keys if k not in sent_again]
        windows = [tuple(map(float, m)) for text in worker_logs for m in UNCERTAIN.findall(text)]
        never = sum(1 for m in self.expected_mails if not counts[m])
        others = sum(n for m, n in counts.items() if m not in self.expected_mails)
        f = self.figures
        validated = sum(c.validated for c in self.candidates)
        refused = Counter(c.validation_refused for c in self.candidates if c.validation_refused)
        say("")
        say("FIGURES")
        say(f"  dossiers: {len(self.all_numbers)} in the campaign ({self.count} candidates; {len(orphans)} created")
        say("    by a request whose answer was lost, then sent again by the candidate; they are cancelled too)")
        say(f"  validated {validated}, validations refused {dict(refused) or 0}; accommodation decisions")
        say(f"    {sum(c.decision is not None for c in self.candidates)}; final statuses {dict(statuses)}")
        say(f"  transitions lost: {len(lost)}" + (f" e.g. {lost[:5]}" if lost else ""))
        if unknown:
            say(f"  numbers answered to a client but not in the campaign's workflows: {len(unknown)} {unknown[:5]}")
        if self.instructed:
            first = min((d.decided_at for d in self.instructed if d.decided), default=0)
            last = max((d.decided_at for d in self.instructed if d.decided), default=0)
            refused_decisions = Counter(d.refused for d in self.instructed if d.refused)
            say(
                f"  instruction decisions taken over HTTP (303 from the web): {dict(decided)} of "
                f"{len(self.instructed)}, from +{first:.0f} s to +{last:.0f} s; not taken: {len(undecided)}"
                + (f" {dict(refused_decisions)} e.g. {undecided[:3]}" if undecided else "")
            )
        say(f"  e-mails: {len(self.expected_mails)} expected, sent twice {twice}, never {never}")
        if twice_keys:
            say(f"    sent twice (same Message-ID on both copies): {twice_keys[:10]}")
        say(
            f"    sent again on purpose after an attempt cut off during DATA (worker logs): {len(sent_again)}; "
            f"sent twice without that warning: {len(unexplained)}"
        )
        if windows:
            say(f"    uncertain stretch per mail (DATA, then the « sent » record), over {len(windows)} mails logged:")
            for label, values in (
                ("whole", [w[0] for w in windows]),
                ("DATA exchange", [w[1] for w in windows]),
                ("« sent » record", [w[2] for w in windows]),
            ):
                cuts = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
                median, p95, p99 = cuts[49], cuts[94], cuts[98]
                say(f"      {label}: median {median:.1f} ms, p95 {p95:.1f}, p99 {p99:.1f}, max {max(values):.1f}")
        say(f"    (other mails in the sink, not from a dossier's outbox: {others}; dossiers whose count of")
        say(f"    queued mails differs from the drill's model: {queued_mismatch})")
        refused_attempts = sum(text.count("did not take mail") for text in worker_logs)
        say(f"  SMTP attempts refused with 451 during the outage, then retried by Temporal: {refused_attempts}")
        say(f"  failed workflow tasks (WorkflowTaskFailed/TimedOut): {failed_tasks} in {dossiers_with_failed} dossiers")
        say(f"    by kind: {dict(kinds)}")
        say(f"  HTTP errors seen by clients (each then sent again): {sum(f.http.values())} {dict(f.http)}")
        say(f"  WorkflowClient calls retried: {sum(f.temporal.values())} {dict(f.temporal)}")
        say("  faults:")
        for line in f.faults:
            say(f"    {line}")
        say("  time per phase:")
        for name, seconds in f.phases.items():
            say(f"    {seconds:6.0f} s  {name}")
        say("  load average (1, 5, 15 min) at the end of each phase:")
        for line in f.loads:
            say(f"    {line}")
        say(f"  {uptime()}")
        ok = not lost and not unknown and not unexplained and not never and not undecided
        say(
            f"RESULT dossiers={len(self.all_numbers)} instructed={len(self.instructed)} lost={len(lost)} "
            f"mails_twice={twice} mails_twice_unexplained={len(unexplained)} mails_never={never} "
            f"failed_workflow_tasks={failed_tasks} http_errors={sum(f.http.values())} ok={ok}"
        )
        return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--lead", type=float, default=0, help="seconds to the deadline (default: 120 + 0.4 a dossier)")
    parser.add_argument("--outage", type=float, default=180, help="seconds the SMTP sink refuses mail")
    parser.add_argument("--kill-every", type=float, default=45, help="seconds between SIGKILLs of worker 1")
    parser.add_argument(
        "--instruction",
        type=int,
        default=-1,
        help="dossiers started under instruction (default: a fifth of --dossiers)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory (logs, mail) at the end")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="inscriptions-faults-"))
    root.chmod(0o711)
    os.environ["INSCRIPTIONS_MAIL_SINK_OUTAGE_FILE"] = str(root / "stack" / "mail-outage")
    stack = DrillStack(root / "stack")
    ok = False
    try:
        say(f"Stack ({uptime()})")
        began = time.monotonic()
        stack.start(demo=False)
        say(f"  stack up in {time.monotonic() - began:.0f} s")
        instruction = args.instruction if args.instruction >= 0 else args.dossiers // 5
        lead = args.lead or 120 + 0.4 * args.dossiers
        drill = Drill(stack, args.dossiers, lead, args.outage, args.kill_every, instruction)
        ok = asyncio.run(drill.run())
        return 0 if ok else 1
    finally:
        stack.stop()
        if ok and not args.keep:
            import shutil

            shutil.rmtree(root, ignore_errors=True)
        else:
            say(f"Drill directory (logs, mail): {root}")


if __name__ == "__main__":
    sys.exit(main())
