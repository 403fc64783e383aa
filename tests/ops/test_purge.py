"""The RGPD purge: once a campaign's retention period is over, nothing of its candidates is
findable — not in SQL, not on disk, not in Temporal (visibility or describe) — and only
anonymised counts remain. The daily Schedule that starts it is created idempotently."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import MetaData, select
from temporalio.client import ScheduleActionStartWorkflow

from activities.purge import Purger
from domain.retention import purge_due_at
from infra.database import Database, PasswordReset, SentMail
from infra.personal_data import CampaignPurge, PurgedCount, record_read
from infra.settings import Settings
from ops import purge as purge_cli
from tests.backoffice import saved_campaign
from tests.conftest import eventually
from tests.staff.test_dossier_page import upload
from tests.web.pages import PNG, client, preregister
from workflows import names
from workflows.campaign import DeadlineExtension
from workflows.client import WorkflowClient
from workflows.purge import PurgeRequest
from workflows.visibility import campaign_workflows_queries

# Bounds on waiting for the SMTP sink and Temporal's asynchronous deletion on a loaded machine
# (the states are polled; the bound only decides how long a failure takes to report).
WAIT = 60.0


async def everything_in_sql(database: Database) -> str:
    """Every value of every row of every table, as one text to search."""
    metadata = MetaData()
    async with database.engine.connect() as conn:
        await conn.run_sync(lambda sync: metadata.reflect(sync))
        values: list[str] = []
        for table in metadata.sorted_tables:
            for row in (await conn.execute(select(table))).all():
                values.extend(str(v) for v in row)
    return "\n".join(values)


async def sent_mail_count(database: Database, number: str) -> int:
    async with database.sessions() as session:
        rows = await session.scalars(select(SentMail).where(SentMail.key.startswith(f"{number}/")))
        return len(rows.all())


async def test_after_the_retention_period_nothing_of_a_candidate_is_findable(app: FastAPI, database: Database) -> None:
    workflows: WorkflowClient = app.state.client
    files = app.state.files
    purger = Purger(workflows, database, files)
    c = await saved_campaign(database)
    async with client(app) as http:
        first, first_form = await preregister(http, c.id)
        second, second_form = await preregister(http, c.id, last_name="Kerbrat", first_name="Yann")
    filename = f"diplome-{uuid.uuid4().hex}.png"
    ref = await upload(workflows.temporal, files, database, first, "diplome", PNG, "image/png", filename)
    async with database.sessions() as session:
        session.add(
            PasswordReset(
                token_hash=secrets.token_hex(32),
                dossier_number=second,
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        )
        await session.commit()
        await record_read(session, "agent.test", first, "fichier", ref, filename)
    extension = await workflows.start_deadline_extension(
        DeadlineExtension(c.id, c.validation_deadline + timedelta(days=2))
    )
    for number in (first, second):
        await eventually(_mailed(database, number), timeout=WAIT)
        await eventually(_visible(workflows, f"DossierNumber = '{number}'"), timeout=WAIT)
    personal = [first, second, first_form["email"], second_form["email"], filename]
    before = await everything_in_sql(database)
    assert all(value in before for value in personal)

    # Not before the end of the retention period: nothing moves.
    now = datetime.now(UTC)
    assert not (await purger.purge_campaign(c.id, now)).purged
    assert files.path(ref).exists() and await workflows.exists(first)

    due = purge_due_at(c, await purger.last_event(c.id))
    assert due >= max(e.starts_at for e in c.exams) + c.retention
    assert not (await purger.purge_campaign(c.id, due - timedelta(minutes=1))).purged
    report = await purger.purge_campaign(c.id, due)

    assert report.purged and report.dossiers == 2 and report.files == 1
    assert report.workflows == 3  # two dossiers and the deadline extension
    after = await everything_in_sql(database)
    assert [value for value in personal if value in after] == []
    assert not files.path(ref).exists()
    for query in [
        *campaign_workflows_queries(c.id),
        f"DossierNumber = '{first}'",
        f"CandidateEmail = '{second_form['email'].lower()}'",
    ]:
        await eventually(_gone_from_visibility(workflows, query), timeout=WAIT)
    for workflow_id in (first, second, extension):
        await eventually(_not_described(workflows, workflow_id), timeout=WAIT)
    async with database.sessions() as session:
        counts = {
            (r.status, r.route): r.count for r in await session.scalars(select(PurgedCount).filter_by(campaign_id=c.id))
        }
        purge = await session.get(CampaignPurge, c.id)
    assert counts == {("en_attente", "externe"): 2}
    assert purge is not None and purge.finished_at is not None and purge.dossiers == 2
    assert purge.finished_at.replace(tzinfo=UTC) == due  # SQLite gives instants back without their zone

    # A second run finds the campaign purged: nothing deleted, nothing counted twice.
    again = await purger.purge_campaign(c.id, due + timedelta(days=1))
    assert not again.purged
    assert await purger.due_campaigns(due + timedelta(days=1), c.id) == []


def _mailed(database: Database, number: str) -> Callable[[], Awaitable[int]]:
    return lambda: sent_mail_count(database, number)


def _visible(workflows: WorkflowClient, query: str) -> Callable[[], Awaitable[int]]:
    return lambda: workflows.count(query)


def _gone_from_visibility(workflows: WorkflowClient, query: str) -> Callable[[], Awaitable[bool]]:
    async def gone() -> bool:
        return await workflows.count(query) == 0

    return gone


def _not_described(workflows: WorkflowClient, workflow_id: str) -> Callable[[], Awaitable[bool]]:
    async def gone() -> bool:
        return not await workflows.exists(workflow_id)

    return gone


async def test_the_daily_schedule_is_created_once_and_starts_the_purge(app: FastAPI, database: Database) -> None:
    workflows: WorkflowClient = app.state.client
    await workflows.ensure_purge_schedule()
    await workflows.ensure_purge_schedule()  # a second worker start: updated, not duplicated
    handle = workflows.temporal.get_schedule_handle(names.PURGE_SCHEDULE_ID)
    try:
        described = await handle.describe()
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == names.PURGE_WORKFLOW and action.task_queue == workflows.task_queue
        await handle.trigger()
        query = f"WorkflowType = '{names.PURGE_WORKFLOW}' AND ExecutionStatus = 'Completed'"
        await eventually(_visible(workflows, query), timeout=WAIT)
    finally:
        await handle.delete()

    # From the command line (the same workflow), a campaign that is not due is left alone.
    c = await saved_campaign(database)
    assert await workflows.purge(PurgeRequest(c.id)) == []


async def test_the_command_line_lists_campaigns_and_purges_none_before_its_time(
    app: FastAPI, database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    c = await saved_campaign(database)
    monkeypatch.setattr(purge_cli, "get_settings", lambda: settings)

    assert await purge_cli.main(["status"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(c.id))
    assert "conservation 730 jours" in line and "purge au plus tôt le" in line

    assert await purge_cli.main(["run", "--campaign", c.id]) == 0
    assert "Aucune session n'a atteint la fin de sa durée de conservation." in capsys.readouterr().out
    async with database.sessions() as session:
        assert await session.get(CampaignPurge, c.id) is None
