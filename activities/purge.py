"""The purge of a campaign's personal data once its retention period is over (RGPD).

What goes, for every dossier of the campaign:
- every SQL row naming the dossier: any table with a `dossier_number` column (accounts,
  password resets, files, generated letters, staff reads, and tables added later that follow
  the convention), found by reading the database's own schema, not a hand-kept list; the
  emails sent (`sent_mails`, keyed `<dossier>/<n>`); references from a later dossier that
  replaced it;
- the bytes of its uploaded and generated files;
- its workflow executions and their histories (Temporal's DeleteWorkflowExecution), and those
  of the campaign's bulk actions and campaign-wide changes, whose histories list dossiers.

What stays: the campaign's definition, and how many dossiers it had per final status and
route (`purged_counts`). The counts are written once, with the mark that the purge started, in
one transaction: a purge interrupted half-way resumes (files and rows are deleted again, which
is harmless) and never counts twice.

Whether a campaign is due is decided by `domain.retention` from its dates and the last event
of its dossiers (read with the `view` query, so a worker must be running).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import MetaData, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from domain.campaign import Campaign
from domain.retention import campaign_end, purge_due_at
from infra.database import Account, CampaignRow, Database, SentMail, StoredFile
from infra.files import FileStore
from infra.personal_data import CampaignPurge, PurgedCount
from workflows import names
from workflows.client import CampaignExecution, NotFound, WorkflowClient
from workflows.purge import DueRequest, PurgeOrder, PurgeReport

log = logging.getLogger(__name__)

DOSSIER_COLUMN = "dossier_number"
CHUNK = 500  # numbers per DELETE ... IN (...), well under every database's parameter limit


@dataclass
class CampaignRetention:
    """Where a campaign stands, for the operators' listing."""

    campaign_id: str
    grade: str
    earliest_purge: datetime  # from its dates alone; its dossiers' last events may push it later
    purged_at: datetime | None
    started: bool


def _beat(detail: str) -> None:
    if activity.in_activity():
        activity.heartbeat(detail)


class Purger:
    def __init__(self, workflows: WorkflowClient, database: Database, files: FileStore) -> None:
        self.workflows = workflows
        self.database = database
        self.files = files

    # ------------------------------------------------------------------ which campaigns
    async def retention_status(self) -> list[CampaignRetention]:
        async with self.database.sessions() as session:
            rows = (await session.scalars(select(CampaignRow).order_by(CampaignRow.created_at))).all()
            purges = {p.campaign_id: p for p in (await session.scalars(select(CampaignPurge))).all()}
        out = []
        for row in rows:
            campaign = row.campaign
            purge = purges.get(row.id)
            out.append(
                CampaignRetention(
                    campaign_id=row.id,
                    grade=row.grade,
                    earliest_purge=campaign_end(campaign) + campaign.retention,
                    purged_at=purge.finished_at if purge else None,
                    started=purge is not None,
                )
            )
        return out

    async def is_due(self, campaign: Campaign, now: datetime) -> bool:
        """Whether the campaign's retention period is over at `now` (or its purge was started)."""
        async with self.database.sessions() as session:
            purge = await session.get(CampaignPurge, campaign.id)
        if purge is not None:
            return purge.finished_at is None  # resume an interrupted purge; a finished one is done
        if campaign_end(campaign) + campaign.retention > now:
            return False  # not even its own dates allow it: no need to read the dossiers
        return purge_due_at(campaign, await self.last_event(campaign.id)) <= now

    async def last_event(self, campaign_id: str) -> datetime | None:
        """The last event any dossier of the campaign recorded (a result, a letter...)."""
        last: datetime | None = None
        for execution in await self.workflows.campaign_executions(campaign_id):
            if execution.workflow_type != names.DOSSIER_WORKFLOW:
                continue
            try:
                dossier = await self.workflows.view(execution.workflow_id)
            except NotFound:
                continue
            _beat(execution.workflow_id)
            events = [e.at for e in dossier.timeline] or [dossier.registration.registered_at]
            last = max(last, *events) if last else max(events)
        return last

    async def due_campaigns(self, now: datetime, campaign_id: str | None = None) -> list[str]:
        async with self.database.sessions() as session:
            rows = (await session.scalars(select(CampaignRow).order_by(CampaignRow.created_at))).all()
        due = []
        for row in rows:
            if campaign_id is not None and row.id != campaign_id:
                continue
            if await self.is_due(row.campaign, now):
                due.append(row.id)
        return due

    @activity.defn(name=names.PURGE_DUE_CAMPAIGNS)
    async def due_campaigns_activity(self, request: DueRequest) -> list[str]:
        return await self.due_campaigns(request.now, request.campaign_id)

    # ------------------------------------------------------------------ one campaign
    @activity.defn(name=names.PURGE_CAMPAIGN)
    async def purge_campaign_activity(self, order: PurgeOrder) -> PurgeReport:
        return await self.purge_campaign(order.campaign_id, order.now)

    async def purge_campaign(self, campaign_id: str, now: datetime) -> PurgeReport:
        """Purge the campaign if it is due at `now` (checked again: nothing is deleted early)."""
        async with self.database.sessions() as session:
            row = await session.get(CampaignRow, campaign_id)
        if row is None or not await self.is_due(row.campaign, now):
            return PurgeReport(campaign_id, purged=False)
        executions = await self.workflows.campaign_executions(campaign_id)
        dossier_runs = [e for e in executions if e.workflow_type == names.DOSSIER_WORKFLOW]
        await self._count_once(campaign_id, dossier_runs, now)
        async with self.database.sessions() as session:
            accounts = await session.scalars(select(Account.dossier_number).where(Account.campaign_id == campaign_id))
            numbers = sorted({e.workflow_id for e in dossier_runs} | set(accounts.all()))
        report = PurgeReport(campaign_id, purged=True, dossiers=len(numbers))
        # Files first: rows naming them are deleted after, so a crash in between leaves rows
        # that the resumed purge follows to the (already deleted) files, never files nobody names.
        for start in range(0, len(numbers), CHUNK):
            chunk = numbers[start : start + CHUNK]
            report.files += await self._delete_files(chunk)
            report.rows += await self._delete_rows(chunk)
            _beat(f"{start + len(chunk)}/{len(numbers)}")
        for execution in executions:
            await self.workflows.delete_execution(execution.workflow_id, execution.run_id)
            report.workflows += 1
            _beat(execution.workflow_id)
        async with self.database.sessions() as session:
            purge = await session.get(CampaignPurge, campaign_id)
            assert purge is not None
            purge.finished_at = now
            await session.commit()
        log.info(
            "Campaign %s purged: %d dossiers, %d files, %d rows, %d workflow runs",
            campaign_id,
            report.dossiers,
            report.files,
            report.rows,
            report.workflows,
        )
        return report

    async def _count_once(self, campaign_id: str, dossiers: list[CampaignExecution], now: datetime) -> None:
        async with self.database.sessions() as session:
            if await session.get(CampaignPurge, campaign_id) is not None:
                return  # counted when this purge started
            counts = Counter((e.status or "inconnu", e.route or "inconnue") for e in dossiers)
            session.add(CampaignPurge(campaign_id=campaign_id, started_at=now, dossiers=len(dossiers)))
            for (status, route), count in sorted(counts.items()):
                session.add(PurgedCount(campaign_id=campaign_id, status=status, route=route, count=count))
            await session.commit()

    async def _delete_files(self, numbers: list[str]) -> int:
        async with self.database.sessions() as session:
            refs = (await session.scalars(select(StoredFile.ref).where(StoredFile.dossier_number.in_(numbers)))).all()
        for ref in refs:
            self.files.delete(ref)
        return len(refs)

    async def _delete_rows(self, numbers: list[str]) -> int:
        deleted = 0
        async with self.database.sessions() as session:
            for table in await personal_tables(session):
                # Children before parents (password resets before their account).
                result = await session.execute(delete(table).where(table.c[DOSSIER_COLUMN].in_(numbers)))
                deleted += result.rowcount or 0  # type: ignore[attr-defined]
            for number in numbers:
                result = await session.execute(
                    delete(SentMail).where(SentMail.key.startswith(f"{number}/", autoescape=True))
                )
                deleted += result.rowcount or 0  # type: ignore[attr-defined]
            await session.execute(update(Account).where(Account.replaced_by.in_(numbers)).values(replaced_by=None))
            await session.commit()
        return deleted


async def personal_tables(session: AsyncSession) -> list[Table]:
    """The database's tables that have a `dossier_number` column, children first, as the
    database itself describes them (tables of modules this process never imported included)."""
    metadata = MetaData()
    connection = await session.connection()
    await connection.run_sync(lambda sync: metadata.reflect(sync))
    return [t for t in reversed(metadata.sorted_tables) if DOSSIER_COLUMN in t.c]
