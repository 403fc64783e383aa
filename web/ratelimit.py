"""Rate limiting of guessable endpoints (login, password reset), in process.

A sliding window per key: at most `limit` hits in the last `window`. Keys combine the client IP
with what the request aims at (a dossier number, a staff login), plus a looser limit per IP
alone against one address trying many identifiers.

Why in process and not a shared store: one web process per host is the deployment here and the
counters only have to slow guessing down, not be exact. With N processes or hosts each keeps its
own counters, so the effective limit is N times the configured one; a shared store (Redis, or a
SQL table) would be needed to make it strict. Behind a reverse proxy, run uvicorn with
`--proxy-headers --forwarded-allow-ips=<proxy>` so that `client_ip` sees the real address.

Limits keyed by identifier alone (any IP) were left out on purpose: they would let anyone lock a
candidate out of their space on the eve of a deadline by failing logins in their name.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request, status


@dataclass(frozen=True)
class Limit:
    limit: int
    window_seconds: float


class RateLimiter:
    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # uvicorn runs sync code in threads too; keep it safe
        self._last_sweep = clock()

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may try again; 0 when it may try now. Records nothing."""
        with self._lock:
            hits = self._prune(key)
            if hits is None or len(hits) < self.limit.limit:
                return 0.0
            return max(0.0, hits[0] + self.limit.window_seconds - self._clock())

    def hit(self, key: str) -> None:
        """Count one attempt for `key`."""
        with self._lock:
            now = self._clock()
            self._hits.setdefault(key, deque()).append(now)
            if now - self._last_sweep > self.limit.window_seconds:
                self._sweep(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def _prune(self, key: str) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        horizon = self._clock() - self.limit.window_seconds
        while hits and hits[0] <= horizon:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def _sweep(self, now: float) -> None:
        """Forget keys whose hits have all expired, so memory stays bounded."""
        horizon = now - self.limit.window_seconds
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= horizon]:
            del self._hits[key]
        self._last_sweep = now


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def too_many(retry_after_seconds: float, what: str) -> HTTPException:
    """A 429 with a French message and the Retry-After header."""
    minutes = max(1, math.ceil(retry_after_seconds / 60))
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"Trop de tentatives de {what}. Merci de réessayer dans {minutes} minute{'s' if minutes > 1 else ''}.",
        headers={"Retry-After": str(math.ceil(retry_after_seconds))},
    )


class KeyedLimits:
    """A per-(IP, identifier) limiter and a looser per-IP one, checked and counted together."""

    def __init__(self, per_identifier: Limit, per_ip: Limit, what: str) -> None:
        self.per_identifier = RateLimiter(per_identifier)
        self.per_ip = RateLimiter(per_ip)
        self.what = what  # French noun phrase: "connexion", "réinitialisation du mot de passe"

    def _keys(self, request: Request, identifier: str) -> tuple[str, str]:
        ip = client_ip(request)
        return f"{ip}|{identifier.strip().upper()}", ip

    def check(self, request: Request, identifier: str) -> None:
        """Raise 429 if either limit is reached; counts nothing."""
        pair, ip = self._keys(request, identifier)
        wait = max(self.per_identifier.retry_after(pair), self.per_ip.retry_after(ip))
        if wait > 0:
            raise too_many(wait, self.what)

    def hit(self, request: Request, identifier: str) -> None:
        pair, ip = self._keys(request, identifier)
        self.per_identifier.hit(pair)
        self.per_ip.hit(ip)

    def forget(self, request: Request, identifier: str) -> None:
        """After a success: the identifier's failures no longer count (the IP's still do)."""
        self.per_identifier.reset(self._keys(request, identifier)[0])
