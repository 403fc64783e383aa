"""Rate limits of guessable or costly endpoints (logins, password reset, pre-registration),
counted in the shared database.

Each limit is a fixed window per key: at most `limit` attempts until the window ends, then a new
window. Keys combine the client address with what the request aims at (a dossier number, a staff
login, an e-mail address), plus a looser limit per address alone against one address trying
many identifiers.

**Counted before the work.** An attempt is counted by one atomic statement (`INSERT … ON CONFLICT
… DO UPDATE … RETURNING`, on SQLite and PostgreSQL alike) before the password is checked or the
dossier created, and refused when the count it returns is over the limit: N parallel requests
get at most `limit` tries, never N. A successful login gives its attempt back (only failures
count) and clears its identifier's count.

**Shared.** The counters are rows of the `rate_limits` table, so every web process (and host) of
a deployment counts together. Rows whose window has ended are purged (at most once a minute per
process), and each address creates at most `per_address.limit` identifier rows per window (its
own limit stops it before the identifier is counted), so the table stays small; identifiers are
cut to `MAX_IDENTIFIER` characters and IPv6 addresses taken per /64 (what one subscriber gets)
before they become keys.

**Behind a reverse proxy** every request comes from the proxy's address: the app must be told
which peers may set `X-Forwarded-For` (the `FORWARDED_ALLOW_IPS` environment variable, read by
`web.middleware.ReceiptMiddleware`; see the Dockerfile and `devtools.run_local`). A header from
any other peer is ignored, so a client cannot pick its own address to dodge the limits.

Limits keyed by identifier alone (any address) were left out on purpose: they would let anyone
lock a candidate out of their space on the eve of a deadline by failing logins in their name.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request, status
from sqlalchemy import case, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from infra.database import RateLimitCount

# Longer than any dossier number (32) or staff login (64): a longer identifier names nothing, and
# cutting it keeps an attacker from writing kilobyte keys.
MAX_IDENTIFIER = 64
PURGE_EVERY_SECONDS = 60.0


@dataclass
class Limit:
    limit: int
    window_seconds: float


def client_ip(request: Request) -> str:
    """The client's address as the request gives it (the proxy's header only from a trusted proxy);
    IPv6 per /64 network."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def too_many(retry_after_seconds: float, what: str) -> HTTPException:
    """A 429 with a French message and the Retry-After header. `what`: a noun phrase
    (« connexion » gives « Trop de tentatives de connexion. ») or, ending with a full stop, the
    whole first sentence."""
    minutes = max(1, math.ceil(retry_after_seconds / 60))
    if minutes > 90:
        hours = math.ceil(minutes / 60)
        wait = f"{hours} heures"
    else:
        wait = f"{minutes} minute{'s' if minutes > 1 else ''}"
    first = what if what.endswith(".") else f"Trop de tentatives de {what}."
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"{first} Merci de réessayer dans {wait}.",
        headers={"Retry-After": str(max(1, math.ceil(retry_after_seconds)))},
    )


class SharedCounter:
    """Atomic counters in the `rate_limits` table."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock  # wall clock: every process must agree on when a window ends
        self._last_purge = 0.0

    async def count(self, db: AsyncSession, key: str, window_seconds: float) -> tuple[int, float]:
        """Count one attempt for `key`; the attempts in its window so far (this one included) and
        the instant the window ends. One statement: two requests never read the same count."""
        now = self.clock()
        ends = now + window_seconds
        dialect = db.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = RateLimitCount
        expired = table.window_ends <= now
        statement = (
            insert(table)
            .values(key=key, hits=1, window_ends=ends)
            .on_conflict_do_update(
                index_elements=[table.key],
                set_={
                    "hits": case((expired, 1), else_=table.hits + 1),
                    "window_ends": case((expired, ends), else_=table.window_ends),
                },
            )
            .returning(table.hits, table.window_ends)
        )
        hits, window_ends = (await db.execute(statement)).one()
        return int(hits), float(window_ends)

    async def give_back(self, db: AsyncSession, key: str) -> None:
        await db.execute(
            update(RateLimitCount)
            .where(RateLimitCount.key == key, RateLimitCount.hits > 0)
            .values(hits=RateLimitCount.hits - 1)
            .execution_options(synchronize_session=False)
        )

    async def clear(self, db: AsyncSession, key: str) -> None:
        await db.execute(
            delete(RateLimitCount).where(RateLimitCount.key == key).execution_options(synchronize_session=False)
        )

    async def purge_expired(self, db: AsyncSession) -> None:
        """Forget ended windows, at most once per PURGE_EVERY_SECONDS in this process."""
        now = self.clock()
        if now - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        await db.execute(
            delete(RateLimitCount).where(RateLimitCount.window_ends <= now).execution_options(synchronize_session=False)
        )


COUNTER = SharedCounter()


async def attempt_all(db: AsyncSession, checks: list[tuple[str, Limit, str]]) -> None:
    """Count one attempt on each key in turn, committed at once, stopping at the first whose
    limit is over (the later keys are not counted): HTTP 429 naming that check's `what`."""
    over: tuple[float, str] | None = None
    try:
        await COUNTER.purge_expired(db)
        for key, limit, what in checks:
            hits, ends = await COUNTER.count(db, key, limit.window_seconds)
            if hits > limit.limit:
                over = (ends - COUNTER.clock(), what)
                break
        await db.commit()
    except BaseException:
        await db.rollback()
        raise
    if over is not None:
        raise too_many(*over)


class KeyedLimits:
    """A per-(address, identifier) limit and a looser per-address one, counted together."""

    def __init__(self, name: str, per_identifier: Limit, per_address: Limit, what: str) -> None:
        self.name = name  # the keys' prefix: each endpoint counts on its own
        self.per_identifier = per_identifier
        self.per_address = per_address
        self.what = what  # French noun phrase: "connexion", "réinitialisation du mot de passe"

    def keys(self, request: Request, identifier: str) -> tuple[str, str]:
        ip = client_ip(request)
        cut = identifier.strip().upper()[:MAX_IDENTIFIER]
        return f"{self.name}|{ip}|{cut}", f"{self.name}|{ip}"

    async def attempt(self, db: AsyncSession, request: Request, identifier: str) -> None:
        """Count this attempt, committed at once (parallel requests see it), or raise 429 when
        either limit is over. The address is counted first: an address over its limit adds no
        identifier row."""
        pair, address = self.keys(request, identifier)
        await attempt_all(db, [(address, self.per_address, self.what), (pair, self.per_identifier, self.what)])

    async def succeeded(self, db: AsyncSession, request: Request, identifier: str) -> None:
        """After a success: its attempt is given back to the address, and the identifier's
        failures no longer count."""
        pair, address = self.keys(request, identifier)
        await COUNTER.clear(db, pair)
        await COUNTER.give_back(db, address)
        await db.commit()
