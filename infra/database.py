"""SQL storage for what is not a dossier's state: accounts, campaigns, files, sent mail.

A dossier's state lives in its workflow only. These tables hold what the web layer and the
activities need around it: who may log in to which dossier, the campaigns staff define, where an
uploaded file's bytes are, and which emails went out or were going out (activities/mail.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, ClassVar

from pydantic import TypeAdapter
from sqlalchemy import DateTime, Float, ForeignKey, Integer, MetaData, String, Text, delete, event, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from domain.campaign import Campaign
from domain.registration import number_prefix, unique_number_prefix
from infra.clock import now
from infra.settings import Settings

CAMPAIGN_JSON = TypeAdapter(Campaign)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}
    # Named constraints: an Alembic migration can then drop or alter one by name, which SQLite's
    # batch mode (table copied and recreated) needs. The index names are SQLAlchemy's defaults.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    grade: Mapped[str] = mapped_column(String(200), index=True)
    definition: Mapped[str] = mapped_column(Text)  # the Campaign dataclass as JSON
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    @property
    def campaign(self) -> Campaign:
        return CAMPAIGN_JSON.validate_json(self.definition)

    @staticmethod
    def from_campaign(campaign: Campaign) -> CampaignRow:
        return CampaignRow(
            id=campaign.id,
            grade=campaign.grade,
            definition=CAMPAIGN_JSON.dump_json(campaign).decode(),
        )


class Account(Base):
    """A candidate's login to one dossier: the dossier number and a password hash."""

    __tablename__ = "accounts"

    dossier_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    grade: Mapped[str] = mapped_column(String(200))
    # Normalised name and birth date: one registration per grade and person.
    person_key: Mapped[str] = mapped_column(String(300), index=True)
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(200))
    replaced_by: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=now)


class ReplacementRequest(Base):
    """A later pre-registration of the same person for the same grade, which replaces the
    earlier dossier only once that dossier's owner confirms it from its space (`web.replacement`)."""

    __tablename__ = "replacement_requests"

    earlier: Mapped[str] = mapped_column(ForeignKey("accounts.dossier_number"), primary_key=True)
    later: Mapped[str] = mapped_column(ForeignKey("accounts.dossier_number"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)


class PasswordReset(Base):
    """One emailed password-reset link: single use, expiring.

    Only the SHA-256 of the link's token is stored, so a leaked table cannot reset anything.
    """

    __tablename__ = "password_resets"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dossier_number: Mapped[str] = mapped_column(ForeignKey("accounts.dossier_number"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class RevokedSession(Base):
    """A session ended by its logout before its token expired (`web.security.SessionTokens`).

    In the shared database, not in a process's memory: several web processes serve the same
    users, and a token copied before logout must be refused by all of them. A row is needed only
    until the token would have expired anyway (`expires_at`); older rows are deleted.
    """

    __tablename__ = "revoked_sessions"

    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Counter(Base):
    """Sequences for dossier numbers, one per campaign."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class StoredFile(Base):
    """Where an uploaded or generated file's bytes are; the workflow keeps only `ref`."""

    __tablename__ = "files"

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    dossier_number: Mapped[str] = mapped_column(String(32), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)


MAIL_SENDING = "sending"  # written just before DATA: the server may take the message from now on
MAIL_SENT = "sent"  # the server answered 250 to DATA


class SentMail(Base):
    """One row per email handed to the SMTP server, under its event key: the activity checks it
    before sending (activities/mail.py). `state` is « sending » from just before DATA until the
    server's 250, then « sent »; a row left at « sending » is a mail whose fate is unknown (an
    attempt cut off during DATA)."""

    __tablename__ = "sent_mails"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str] = mapped_column(String(300))
    # Rows written before the « sending » mark existed were all sent.
    state: Mapped[str] = mapped_column(String(10), server_default=MAIL_SENT)
    sent_at: Mapped[datetime] = mapped_column(default=now)  # the mark's instant, then the 250's


class RateLimitCount(Base):
    """One rate-limit counter (`web.ratelimit`): attempts for a key in the current window.
    Shared by every web process; rows whose window has ended are purged."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    # Seconds since the epoch (wall clock): plain numbers compare the same on SQLite and PostgreSQL.
    window_ends: Mapped[float] = mapped_column(Float, index=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers go on while one process writes; NORMAL sync is safe with WAL."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# How long a request waits for a pooled connection before giving up. Connections are held for a
# few statements only (never across a call to Temporal or a password hash), so a longer wait
# means the host is overloaded: the web answers 503 with Retry-After (`web.errors`), not 500.
POOL_TIMEOUT_SECONDS = 10.0


class Database:
    @classmethod
    def of(cls, settings: Settings) -> Database:
        """The database the settings name, with their pool sizes."""
        return cls(
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout,
        )

    def __init__(
        self,
        url: str,
        *,
        pool_size: int | None = None,
        max_overflow: int | None = None,
        pool_timeout: float = POOL_TIMEOUT_SECONDS,
    ) -> None:
        sqlite = url.startswith("sqlite")
        pool: dict[str, Any] = {} if ":memory:" in url else {"pool_timeout": pool_timeout}
        if pool_size is not None:
            pool["pool_size"] = pool_size
        if max_overflow is not None:
            pool["max_overflow"] = max_overflow
        # SQLite: the web app and the worker write to the same file from several processes;
        # wait up to 30 s for the write lock instead of failing with "database is locked".
        self.engine: AsyncEngine = create_async_engine(url, connect_args={"timeout": 30} if sqlite else {}, **pool)
        if sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision (`python -m ops.migrate` does this)."""
        from infra import schema  # imports every model module, which import this one

        await schema.upgrade(self.engine)

    async def check_schema(self) -> None:
        """Refuse to serve on a schema older (or newer) than this code's: run the migrate step."""
        from infra import schema

        await schema.check_at_head(self.engine)

    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


async def next_number(session: AsyncSession, name: str) -> int:
    """Atomically take the next value of a counter, creating it at 1.

    One statement, INSERT … ON CONFLICT DO UPDATE … RETURNING, on SQLite and PostgreSQL alike:
    concurrent callers queue on the row (PostgreSQL's row lock, SQLite's write lock) and each
    gets its own value. An UPDATE then INSERT when no row was found would let two first
    pre-registrations of a campaign both INSERT on PostgreSQL, and one fail on the key.
    """
    upsert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        upsert(Counter)
        .values(name=name, value=1)
        .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
        .returning(Counter.value)
    )
    return (await session.execute(statement)).scalar_one()


async def get_campaign(session: AsyncSession, campaign_id: str) -> Campaign | None:
    row = await session.get(CampaignRow, campaign_id)
    return row.campaign if row else None


async def list_campaigns(session: AsyncSession) -> list[Campaign]:
    rows = (await session.scalars(select(CampaignRow).order_by(CampaignRow.created_at))).all()
    return [r.campaign for r in rows]


async def save_campaign(session: AsyncSession, campaign: Campaign) -> None:
    """Create or update a campaign. A new campaign gets its dossier-number prefix here, unique
    among the campaigns stored; an update keeps the prefix stored (numbers already issued)."""
    campaign.with_public_holidays().check()
    row = await session.get(CampaignRow, campaign.id)
    if row is None:
        taken = {number_prefix(c) for c in await list_campaigns(session)}
        campaign.number_prefix = unique_number_prefix(campaign.id, taken)
        session.add(CampaignRow.from_campaign(campaign))
    else:
        campaign.number_prefix = row.campaign.number_prefix
        row.grade = campaign.grade
        row.definition = CAMPAIGN_JSON.dump_json(campaign).decode()
    await session.commit()


def session_revoked(session_id: str):
    """A boolean SQL expression: whether this session was ended by its logout (for a caller that
    reads it with the account, in the same round trip)."""
    return select(RevokedSession.session_id).where(RevokedSession.session_id == session_id).exists()


async def revoke_session(session: AsyncSession, session_id: str, expires_at: datetime) -> None:
    """Record a logout (once: a second logout of the same session changes nothing), and forget
    sessions whose tokens have expired since."""
    await session.execute(delete(RevokedSession).where(RevokedSession.expires_at < now()))
    if await session.get(RevokedSession, session_id) is None:
        session.add(RevokedSession(session_id=session_id, expires_at=expires_at))
    try:
        await session.commit()
    except IntegrityError:  # the same session's logout in another tab, at the same moment
        await session.rollback()
