"""Backup and restore drill on the production-like stack; prints figures.

    .venv/bin/python -m devtools.restore_drill --dossiers 1000      (scripts/prod_stack.sh sets up first)

1. Stack A (devtools/prod_stack.py) with a campaign whose validation deadline falls after the
   restore; N dossiers started as pre-registration starts them; one in ten validated; a letter-like
   PDF deposited in some of them (file store + files row + the workflow's deposit).
2. `ops.backup create` while the workers run; then stack A is stopped and its directory left
   aside (the disaster).
3. Stack B in a fresh directory: `ops.backup restore`, same secrets, then started as usual
   (PostgreSQL replays its WAL, Temporal on the restored databases, migrate, workers, webs).
4. Checks on B: every dossier answers its query with the status it had; every deposited file
   is there with its checksum; the deadline timer, due after the restore, fires: the dossiers
   not validated are cancelled, the validated ones are not.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from devtools.prod_stack import Stack, say
from devtools.samples import registration
from domain.documents import CentreDocument, CentreDocumentKind
from domain.dossier import Refusal
from domain.registration import dossier_number
from domain.status import Status
from infra.database import Database, StoredFile, save_campaign
from infra.files import FileStore
from infra.settings import PROJECT_ROOT, Settings
from infra.temporal import connect
from tests.factories import campaign as make_campaign
from workflows.client import Pending, Unavailable, WorkflowClient
from workflows.dossier import DossierWorkflow, Validate

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def gather_limited(coroutines, limit: int = 20) -> list:
    gate = asyncio.Semaphore(limit)

    async def one(c):
        async with gate:
            return await c

    return await asyncio.gather(*(one(c) for c in coroutines))


def client_settings(stack: Stack) -> Settings:
    env = stack.app_env()
    return Settings(
        environment="dev",
        database_url=env["INSCRIPTIONS_DATABASE_URL"],
        data_dir=Path(env["INSCRIPTIONS_DATA_DIR"]),
        temporal_address=env["INSCRIPTIONS_TEMPORAL_ADDRESS"],
    )


async def populate(
    stack: Stack, count: int, lead: float, with_files: int, validate_every: int
) -> tuple[list[str], set[str], dict[str, str], float]:
    settings = client_settings(stack)
    database = Database(settings.database_url)
    campaign = make_campaign(deadline_in=timedelta(seconds=lead), reminders=[], receipt_delay=timedelta(seconds=60))
    async with database.sessions() as session:
        await save_campaign(session, campaign)
    gateway = WorkflowClient(await connect(settings), settings.task_queue)
    numbers = [dossier_number(campaign, i) for i in range(1, count + 1)]
    began = time.monotonic()
    await gather_limited(gateway.start_dossier(registration(campaign, n, i)) for i, n in enumerate(numbers))
    say(f"  {count} dossiers started in {time.monotonic() - began:.0f} s")

    validated: set[str] = set()

    async def validate(number: str) -> None:  # stamped when sent, as the web stamps a click
        while True:
            try:
                await gateway.update(number, DossierWorkflow.validate, Validate(True, datetime.now(UTC)))
                validated.add(number)
                return
            except (Unavailable, Pending):  # the web's 503 / 202: the candidate sends it again
                await asyncio.sleep(1)
            except Refusal as refusal:
                if "déjà validée" in str(refusal):  # an earlier attempt was recorded
                    validated.add(number)
                return

    began = time.monotonic()
    await gather_limited(validate(n) for n in numbers[::validate_every])
    say(f"  {len(validated)} validated in {time.monotonic() - began:.0f} s")
    files = FileStore(settings.files_dir)
    checksums: dict[str, str] = {}
    for number in sorted(validated)[:with_files]:  # a centre's letters go to validated dossiers
        content = PDF + number.encode()
        ref, sha256 = files.save(content)
        async with database.sessions() as session:
            session.add(
                StoredFile(
                    ref=ref,
                    dossier_number=number,
                    filename="courrier.pdf",
                    content_type="application/pdf",
                    size=len(content),
                    sha256=sha256,
                )
            )
            await session.commit()
        at = datetime.now(UTC)
        document = CentreDocument(
            ref=ref, kind=CentreDocumentKind.LETTER, title="Courrier", exam_code=None, deposited_at=at, release_at=at
        )
        while True:
            try:
                await gateway.update(number, DossierWorkflow.deposit_document, document)
                break
            except (Unavailable, Pending):
                await asyncio.sleep(1)
        checksums[number] = sha256
    say(f"  {with_files} documents deposited")
    await database.dispose()
    return numbers, validated, checksums, campaign.validation_deadline.timestamp()


async def statuses(stack: Stack, numbers: list[str]) -> dict[str, Status | None]:
    settings = client_settings(stack)
    gateway = WorkflowClient(await connect(settings), settings.task_queue)

    async def one(number: str) -> Status | None:
        try:
            return (await gateway.view(number)).status
        except Exception:
            return None

    found = await gather_limited((one(n) for n in numbers), limit=30)
    return dict(zip(numbers, found, strict=True))


def check_files(stack: Stack, checksums: dict[str, str], documents: dict[str, list[str]]) -> int:
    files = FileStore(stack.files_dir)
    good = 0
    for number, sha256 in checksums.items():
        refs = documents.get(number, [])
        if refs and all(hashlib.sha256(files.read(ref)).hexdigest() == sha256 for ref in refs):
            good += 1
    return good


async def documents_of(stack: Stack, numbers: list[str]) -> dict[str, list[str]]:
    settings = client_settings(stack)
    gateway = WorkflowClient(await connect(settings), settings.task_queue)
    return {n: [d.ref for d in (await gateway.view(n)).documents] for n in numbers}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--lead", type=float, default=0, help="seconds from campaign creation to its deadline")
    parser.add_argument("--validate-every", type=int, default=10, help="validate one dossier in N")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="inscriptions-drill-"))
    root.chmod(0o711)
    a = Stack(root / "a")
    b: Stack | None = None
    try:
        say("Stack A")
        a.start(demo=False)
        # Deadline after the restore: populating (~0.3 s a dossier here), backup, restart.
        lead = args.lead or 600 + args.dossiers * 0.4
        numbers, validated, checksums, deadline = asyncio.run(
            populate(a, args.dossiers, lead, args.files, args.validate_every)
        )
        before = asyncio.run(statuses(a, numbers))
        say(f"  statuses before: {dict(Counter(str(s) for s in before.values()))}")

        say("Backup while the system runs")
        backup = root / "backup"
        began = time.monotonic()
        env = {
            **a.app_env(),
            "PGHOST": "127.0.0.1",
            "PGPORT": str(a.ports.postgres),
            "PGUSER": a.cluster.user,
            "PGPASSWORD": a.cluster.password,
        }
        subprocess.run(
            [sys.executable, "-m", "ops.backup", "create", "--to", str(backup)], cwd=PROJECT_ROOT, env=env, check=True
        )
        backup_seconds = time.monotonic() - began
        shutil.copy(a.directory / "stack.env", backup / "stack.env")  # secrets: from the deployment's secret store
        size = sum(p.stat().st_size for p in backup.rglob("*") if p.is_file())
        say(f"  backup: {size / 1e6:.1f} MB in {backup_seconds:.1f} s")

        say("Disaster: stack A stopped")
        a.stop()

        say("Stack B restored from the backup")
        restore_began = time.monotonic()
        (root / "b").mkdir()
        (root / "b").chmod(0o711)
        shutil.copy(backup / "stack.env", root / "b" / "stack.env")
        b = Stack(root / "b")
        (b.directory / "postgres").mkdir()
        env_b = {**b.app_env()}
        subprocess.run(
            [sys.executable, "-m", "ops.backup", "restore", "--from", str(backup), "--pgdata", str(b.cluster.data)],
            cwd=PROJECT_ROOT,
            env=env_b,
            check=True,
        )
        if os.geteuid() == 0:  # the cluster's directory (socket, log) belongs to its owner
            shutil.chown(b.directory / "postgres", "postgres", "postgres")
        b.start(demo=False)
        after = asyncio.run(statuses(b, numbers))
        restore_seconds = time.monotonic() - restore_began
        answered = sum(1 for s in after.values() if s is not None)
        same = sum(1 for n in numbers if after[n] == before[n])
        say(f"  deadline {'after' if deadline > time.time() else 'BEFORE'} the restore completed")
        say(f"  restored, every query asked, in {restore_seconds:.0f} s: {answered}/{len(numbers)} answer")
        say(f"  {same} with the status they had before the backup")
        documents = asyncio.run(documents_of(b, list(checksums)))
        files_ok = check_files(b, checksums, documents)
        say(f"  files: {files_ok}/{len(checksums)} deposited documents present with their checksum")

        say(f"Waiting for the deadline ({max(0, deadline - time.time()):.0f} s) and the receipt delay")
        limit = deadline + 60 + 300
        final: dict[str, Status | None] = {}
        while time.time() < limit:
            time.sleep(max(0, min(30, deadline + 65 - time.time())) or 10)
            final = asyncio.run(statuses(b, numbers))
            cancelled = sum(1 for n in numbers if n not in validated and final[n] is Status.CANCELLED)
            if time.time() > deadline and cancelled == len(numbers) - len(validated):
                break
        cancelled = sum(1 for n in numbers if n not in validated and final.get(n) is Status.CANCELLED)
        kept = sum(1 for n in validated if final.get(n) not in (None, Status.CANCELLED))
        say(
            f"  after the deadline: {cancelled}/{len(numbers) - len(validated)} not validated cancelled "
            f"(timer fired after the restore), {kept}/{len(validated)} validated untouched"
        )
        ok = (
            answered == same == len(numbers)
            and files_ok == len(checksums)
            and cancelled == len(numbers) - len(validated)
        )
        say(
            f"RESULT dossiers={len(numbers)} backup_mb={size / 1e6:.1f} backup_s={backup_seconds:.1f} "
            f"restore_s={restore_seconds:.0f} answered={answered} unchanged={same} files={files_ok}/{len(checksums)} "
            f"cancelled_after_restore={cancelled} ok={ok}"
        )
        return 0 if ok else 1
    finally:
        if b is not None:
            b.stop()
        a.stop()
        say(f"Drill directory (logs, backup): {root}")


if __name__ == "__main__":
    sys.exit(main())
