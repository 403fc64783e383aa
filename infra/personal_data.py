"""What the personal-data rules (RGPD) keep in SQL: staff reads, and what a purge leaves behind.

- `StaffRead`: who of the staff opened which dossier, file or history, and when. Administrators
  read it (`/staff/consultations`); it is deleted with the dossier when its campaign is purged.
- `CampaignPurge` and `PurgedCount`: once a campaign's retention period is over
  (`domain.retention`), its candidates' data is deleted (`activities.purge`); only anonymised
  counts per status and route remain, which is what the centre's statistics need.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from infra.clock import now
from infra.database import Base


class StaffRead(Base):
    """One read of a candidate's data by a staff member (a page, a file, a history)."""

    __tablename__ = "staff_reads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=now, index=True)
    staff_login: Mapped[str] = mapped_column(String(64), index=True)
    dossier_number: Mapped[str] = mapped_column(String(32), index=True)
    what: Mapped[str] = mapped_column(String(40))  # a key of READ_LABELS
    file_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    file_name: Mapped[str | None] = mapped_column(String(255), default=None)


READ_LABELS = {
    "dossier": "Fiche du dossier",
    "fichier": "Fichier du dossier",
    "historique": "Historique du dossier",
    "historique_json": "Export de l'historique",
}


class CampaignPurge(Base):
    """A campaign whose candidates' data is being, or has been, purged.

    Written in the same transaction as the counts: a purge interrupted half-way (a worker
    restart) resumes without counting the dossiers it had already deleted a second time."""

    __tablename__ = "campaign_purges"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=now)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    dossiers: Mapped[int] = mapped_column(Integer, default=0)


class PurgedCount(Base):
    """How many dossiers a purged campaign had, per final status and route: no name, no number."""

    __tablename__ = "purged_counts"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(40), primary_key=True)
    route: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


async def record_read(
    db: AsyncSession,
    login: str,
    dossier_number: str,
    what: str,
    file_ref: str | None = None,
    file_name: str | None = None,
) -> None:
    """Record a staff read and commit it at once: the read happened, whatever follows."""
    db.add(
        StaffRead(
            staff_login=login,
            dossier_number=dossier_number,
            what=what,
            file_ref=file_ref,
            file_name=file_name,
        )
    )
    await db.commit()


async def staff_reads(
    db: AsyncSession, *, dossier_number: str = "", login: str = "", limit: int = 200
) -> list[StaffRead]:
    """The latest reads, newest first, optionally of one dossier or by one staff member."""
    query = select(StaffRead).order_by(StaffRead.at.desc(), StaffRead.id.desc()).limit(limit)
    if dossier_number:
        query = query.where(StaffRead.dossier_number == dossier_number)
    if login:
        query = query.where(StaffRead.staff_login == login)
    return list((await db.scalars(query)).all())
