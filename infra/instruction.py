"""The instruction queue's shared state: who holds which dossier now, and who decided what.

A claim says « this instructor has this dossier open »: it expires on its own (an instructor who
closes the tab frees the dossier after `CLAIM_TTL`), and taking one is a single conditional
write, so two instructors asking at the same instant never get the same dossier. The claim only
spreads the work: the dossier's workflow still refuses a decision its status no longer allows.

`instruction_decisions` records each decision taken from the back office (queue or dossier
page) for the head of service's counts per instructor and per day; the dossier's own history
stays the record of what was decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, Integer, String, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from infra.database import Base

CLAIM_TTL = timedelta(minutes=15)


class InstructionClaim(Base):
    __tablename__ = "instruction_claims"

    dossier_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_login: Mapped[str] = mapped_column(String(64), index=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Set once its holder decided: the dossier stays out of the queue until the claim expires,
    # by which time visibility (eventually consistent) shows its new status.
    decided: Mapped[bool] = mapped_column(default=False)


class InstructionDecision(Base):
    __tablename__ = "instruction_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_number: Mapped[str] = mapped_column(String(32), index=True)
    campaign_id: Mapped[str] = mapped_column(String(64), index=True)
    staff_login: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


async def claim(session: AsyncSession, number: str, login: str, now: datetime) -> bool:
    """Take (or renew) the claim on a dossier; False if another instructor holds it.

    One conditional UPDATE takes over an expired claim or renews one's own; failing that, an
    INSERT creates it, and the primary key refuses a second one. Both are atomic on SQLite
    (one writer at a time) and PostgreSQL (the UPDATE re-checks its condition under the row lock)."""
    renewed = await session.execute(
        update(InstructionClaim)
        .where(
            InstructionClaim.dossier_number == number,
            or_(
                InstructionClaim.expires_at <= now,
                (InstructionClaim.staff_login == login) & InstructionClaim.decided.is_(False),
            ),
        )
        .values(staff_login=login, claimed_at=now, expires_at=now + CLAIM_TTL, decided=False)
        .execution_options(synchronize_session=False)
    )
    if renewed.rowcount == 1:  # type: ignore[attr-defined]
        await session.commit()
        return True
    session.add(InstructionClaim(dossier_number=number, staff_login=login, claimed_at=now, expires_at=now + CLAIM_TTL))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True


async def holder(session: AsyncSession, number: str, now: datetime) -> str | None:
    """Who holds the dossier now (an unexpired, undecided claim), if anyone."""
    row = await session.get(InstructionClaim, number, populate_existing=True)
    if row is None or row.decided or _aware(row.expires_at) <= now:
        return None
    return row.staff_login


async def current_claim(session: AsyncSession, login: str, now: datetime) -> str | None:
    """The dossier this instructor holds and has not decided yet (the queue reopens it)."""
    return await session.scalar(
        select(InstructionClaim.dossier_number)
        .where(
            InstructionClaim.staff_login == login,
            InstructionClaim.decided.is_(False),
            InstructionClaim.expires_at > now,
        )
        .order_by(InstructionClaim.claimed_at)
        .limit(1)
    )


async def held(session: AsyncSession, numbers: Iterable[str], now: datetime) -> set[str]:
    """Which of these dossiers are claimed now (by anyone, decided or not)."""
    wanted = list(numbers)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # bounded IN lists
        found |= set(
            await session.scalars(
                select(InstructionClaim.dossier_number).where(
                    InstructionClaim.dossier_number.in_(wanted[start : start + 500]),
                    InstructionClaim.expires_at > now,
                )
            )
        )
    return found


async def release(session: AsyncSession, number: str, login: str) -> None:
    await session.execute(
        delete(InstructionClaim).where(
            InstructionClaim.dossier_number == number,
            InstructionClaim.staff_login == login,
            InstructionClaim.decided.is_(False),
        )
    )
    await session.commit()


async def record_decision(
    session: AsyncSession, number: str, campaign_id: str, login: str, kind: str, now: datetime
) -> None:
    """A decision the workflow accepted: counted, and the holder's claim marked decided."""
    session.add(
        InstructionDecision(
            dossier_number=number, campaign_id=campaign_id, staff_login=login, kind=kind, decided_at=now
        )
    )
    await session.execute(
        update(InstructionClaim)
        .where(InstructionClaim.dossier_number == number, InstructionClaim.staff_login == login)
        .values(decided=True)
        .execution_options(synchronize_session=False)
    )
    await session.commit()


async def decisions_since(session: AsyncSession, since: datetime) -> list[InstructionDecision]:
    return list(
        await session.scalars(
            select(InstructionDecision)
            .where(InstructionDecision.decided_at >= since)
            .order_by(InstructionDecision.decided_at)
        )
    )


async def active_claims(session: AsyncSession, now: datetime) -> list[InstructionClaim]:
    return list(
        await session.scalars(
            select(InstructionClaim)
            .where(InstructionClaim.expires_at > now, InstructionClaim.decided.is_(False))
            .order_by(InstructionClaim.claimed_at)
        )
    )


def _aware(instant: datetime) -> datetime:
    """SQLite gives back naive UTC instants."""
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
