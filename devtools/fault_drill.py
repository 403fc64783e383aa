"""Faults on the production-like stack, measured: prints figures (not a test).

    .venv/bin/python -m devtools.fault_drill --dossiers 1000

On a stack of devtools/prod_stack.py (ports from PROD_STACK_PORT_BASE, default here 18000):
1. a campaign whose validation deadline falls a few minutes ahead; N dossiers started as the
   pre-registration starts them, and a burst of real pre-registrations (HTTP, argon2, account)
   sent to web 2, which is SIGKILLed while they are in flight, then restarted;
2. two thirds of the dossiers validated (Updates, retried by the client on Unavailable as the
   web's follow-up does) while: worker 1 is SIGKILLed three times and worker 2 once (each
   restarted a few seconds later), the Temporal server is restarted, and the SMTP server is
   down (connection refused) for --smtp-outage seconds;
3. the deadline passes: every dossier not validated must be cancelled.
Counted: transitions lost (a validation acknowledged but not in the final status, a dossier
not validated and not cancelled), e-mails sent twice or never (per dossier and template, from
the mail sink's Maildir), failed or timed-out workflow tasks (every history), and what the
killed web process left behind (requests cut, numbers without an account, workflows without
an account).
"""

from __future__ import annotations

import argparse
import asyncio
import email
import mailbox
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path

import httpx
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType

from devtools.prod_stack import Ports, Stack, say
from devtools.restore_drill import client_settings, gather_limited
from devtools.samples import registration
from domain.dossier import Refusal
from domain.registration import dossier_number
from domain.status import Status
from infra.database import Account, Database, save_campaign
from infra.temporal import connect
from tests.factories import campaign as make_campaign
from tests.factories import form
from workflows import names
from workflows.client import Pending, Unavailable, WorkflowClient
from workflows.dossier import DossierWorkflow, Validate

FAILED_TASKS = {EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT}


def faults(stack: Stack, smtp_outage: float, log: list[str], stop: threading.Event) -> None:
    """The fault schedule, in a thread, while the validations go on."""

    def kill(name: str) -> None:
        proc = stack.process(name)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        log.append(f"{time.strftime('%H:%M:%S')} SIGKILL {name}")

    def pause(seconds: float) -> bool:
        return not stop.wait(seconds)

    stack.stop_process("mail", signal.SIGKILL)
    log.append(f"{time.strftime('%H:%M:%S')} SMTP server down")
    outage_ends = time.monotonic() + smtp_outage
    for round_ in range(3):
        if not pause(4):
            break
        kill("worker1")
        if round_ == 1:
            kill("worker2")
        pause(3)
        stack.respawn("worker1")
        if round_ == 1:
            stack.respawn("worker2")
        if round_ == 0:
            pause(5)
            stack.stop_process("temporal")
            log.append(f"{time.strftime('%H:%M:%S')} Temporal server stopped")
            stack.start_temporal()
            log.append(f"{time.strftime('%H:%M:%S')} Temporal server restarted")
    pause(max(0.0, outage_ends - time.monotonic()))
    stack.respawn("mail")
    log.append(f"{time.strftime('%H:%M:%S')} SMTP server back")


async def web_kill_burst(stack: Stack, campaign_id: str, count: int) -> dict[str, int]:
    """Real pre-registrations sent to web 2, which is SIGKILLed while they are in flight."""
    url = f"http://127.0.0.1:{stack.ports.webs[1]}/api/preinscriptions"
    answered: Counter[str] = Counter()
    async with httpx.AsyncClient(timeout=60) as http:

        async def one(i: int) -> None:
            data = form(campaign_id, last_name="Coupé", birth_date=f"1980-01-{1 + i % 28:02d}", first_name="Anne")
            try:
                response = await http.post(url, json=data)
                answered[str(response.status_code)] += 1
            except httpx.HTTPError:
                answered["cut"] += 1

        async def killer() -> None:
            await asyncio.sleep(0.8)  # the first ones are being hashed, started, committed
            os.kill(stack.process("web2").pid, signal.SIGKILL)

        await asyncio.gather(*(one(i) for i in range(count)), killer())
    stack.process("web2").wait()
    stack.respawn("web2")
    stack.wait_port(stack.ports.webs[1], "web2", stack.process("web2"))
    return dict(answered)


async def validate_all(gateway: WorkflowClient, numbers: list[str]) -> tuple[set[str], int]:
    acknowledged: set[str] = set()
    retries = 0

    async def one(number: str) -> None:
        nonlocal retries
        while True:
            try:
                await gateway.update(number, DossierWorkflow.validate, Validate(True, datetime.now(UTC)))
                acknowledged.add(number)
                return
            except (Unavailable, Pending):  # server restarting, worker killed: send it again
                retries += 1
                await asyncio.sleep(1)
            except Refusal as refusal:
                if "déjà" in str(refusal) or "validée" in str(refusal):
                    acknowledged.add(number)  # recorded by an earlier attempt whose answer was lost
                    return
                raise

    await gather_limited((one(n) for n in numbers), limit=10)
    return acknowledged, retries


def mails(stack: Stack) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for message in mailbox.Maildir(stack.directory / "mail", create=False):
        parsed = email.message_from_bytes(message.as_bytes())
        subject = str(make_header(decode_header(parsed["subject"] or "")))
        found[(str(parsed["X-Dossier"]), subject.split(" — ")[0])] += 1
    return found


async def run(args: argparse.Namespace, stack: Stack) -> bool:
    settings = client_settings(stack)
    database = Database(settings.database_url)
    lead = args.lead or 360 + args.dossiers * 0.3
    campaign = make_campaign(deadline_in=timedelta(seconds=lead), reminders=[], receipt_delay=timedelta(seconds=30))
    async with database.sessions() as session:
        await save_campaign(session, campaign)
    gateway = WorkflowClient(await connect(settings), settings.task_queue)
    numbers = [dossier_number(campaign, i) for i in range(1, args.dossiers + 1)]
    began = time.monotonic()
    await gather_limited(gateway.start_dossier(registration(campaign, n, i)) for i, n in enumerate(numbers))
    say(f"{len(numbers)} dossiers started in {time.monotonic() - began:.0f} s; deadline in {lead:.0f} s")

    burst = await web_kill_burst(stack, campaign.id, args.web_burst)
    say(f"web 2 SIGKILLed during {args.web_burst} pre-registrations: answers {burst}")

    log: list[str] = []
    stop = threading.Event()
    schedule = threading.Thread(target=faults, args=(stack, args.smtp_outage, log, stop))
    schedule.start()
    to_validate = [n for i, n in enumerate(numbers) if i % 3]
    began = time.monotonic()
    acknowledged, retries = await validate_all(gateway, to_validate)
    took = time.monotonic() - began
    say(f"{len(acknowledged)}/{len(to_validate)} validations acknowledged in {took:.0f} s ({retries} retries)")
    await asyncio.to_thread(schedule.join)
    for line in log:
        say(f"  {line}")

    deadline = campaign.validation_deadline.timestamp() + 30
    say(f"Waiting for the deadline and the receipt delay ({max(0, deadline - time.time()):.0f} s)...")
    await asyncio.sleep(max(0, deadline - time.time()))
    validated = set(to_validate)
    final: dict[str, Status | None] = {}
    limit = time.time() + 600
    while time.time() < limit:
        views = await gather_limited((gateway.view(n) for n in numbers), limit=30)
        final = {n: v.status for n, v in zip(numbers, views, strict=True)}
        lost = [n for n in numbers if final[n] is not (Status.TRANSFERRING if n in validated else Status.CANCELLED)]
        expected = {(n, "Votre préinscription") for n in numbers}
        expected |= {(n, "Demande d'inscription validée") for n in validated}
        expected |= {(n, "Préinscription annulée") for n in numbers if n not in validated}
        sent = mails(stack)
        missing = [key for key in expected if sent[key] == 0]
        if not lost and not missing:
            break
        await asyncio.sleep(10)
    twice = {key: c for key, c in sent.items() if key[0] in set(numbers) and c > 1}
    say(f"transitions lost: {len(lost)} {lost[:5]}")
    say(f"e-mails never sent: {len(missing)} {missing[:5]}; sent twice or more: {len(twice)} {list(twice)[:5]}")

    histories = await gather_limited(
        (gateway.temporal.get_workflow_handle(n).fetch_history() for n in numbers), limit=20
    )
    failed = Counter(e.event_type for h in histories for e in h.events if e.event_type in FAILED_TASKS)
    say(
        f"workflow tasks failed: {failed[EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]}, "
        f"timed out: {failed[EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT]} (all {len(histories)} histories)"
    )

    async with database.sessions() as session:
        web_numbers = set(
            await session.scalars(select(Account.dossier_number).where(Account.campaign_id == campaign.id))
        )
    listed = [e async for e in gateway.temporal.list_workflows(f"{names.CAMPAIGN.name} = '{campaign.id}'")]
    without_account = [e.id for e in listed if e.id not in set(numbers) and e.id not in web_numbers]
    say(
        f"web burst: {len(web_numbers)} accounts, {len(without_account)} workflows without an account "
        f"{without_account[:5]}"
    )
    await database.dispose()
    return not lost and not missing and not twice


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--smtp-outage", type=float, default=180)
    parser.add_argument("--web-burst", type=int, default=20)
    parser.add_argument("--lead", type=float, default=0)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="inscriptions-faults-"))
    stack = Stack(root, Ports(int(os.environ.get("PROD_STACK_PORT_BASE", 18000))))
    ok = False
    try:
        stack.start(demo=False)
        ok = asyncio.run(run(args, stack))
        say(f"RESULT ok={ok} ({secrets.token_hex(2)})")
        return 0 if ok else 1
    finally:
        stack.stop()
        if ok:
            shutil.rmtree(root, ignore_errors=True)
        else:
            say(f"Kept for inspection: {root}")


if __name__ == "__main__":
    sys.exit(main())
