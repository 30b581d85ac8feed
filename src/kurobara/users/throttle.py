"""Login throttling: at most N password checks for one username from one client per window; past
that, 429 until the window passes. In-process by default; shared through Redis when
``KUROBARA_REDIS_URL`` is set, so that replicas count together; without Redis, the workers of
``kurobara serve --workers N`` count together in a file (``FileLoginThrottle``).

An attempt is counted *before* its password is checked, atomically (a lock in memory, ``INCR``
in Redis), so that concurrent guesses cannot all slip in under the limit; a successful login
clears the count. When Redis does not answer, logins fall back to the in-process count (with a
warning) rather than failing: a throttle per replica beats no login at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)

# How long logins use the in-process count after Redis failed, before Redis is tried again.
REDIS_RETRY_SECONDS = 30.0
_MAX_KEYS = 100_000


class LoginThrottle(Protocol):
    async def attempt(self, key: str) -> int:
        """Count one login attempt for ``key``. 0: check the password; otherwise the seconds
        until ``key`` may try again (the attempt must not be checked)."""

    async def reset(self, key: str) -> None:
        """The login succeeded: forget the attempts of ``key``."""


class MemoryLoginThrottle:
    """Sliding window of attempt times per key, under a lock."""

    def __init__(self, *, max_failures: int, window_seconds: int) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._attempts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        attempts = self._attempts.setdefault(key, deque())
        while attempts and attempts[0] <= now - self.window:
            attempts.popleft()
        return attempts

    async def attempt(self, key: str) -> int:
        now = time.monotonic()
        with self._lock:
            attempts = self._recent(key, now)
            if len(attempts) >= self.max_failures:
                return max(1, int(attempts[0] + self.window - now) + 1)
            attempts.append(now)
            if len(self._attempts) > _MAX_KEYS:  # bound memory under a credential-stuffing flood
                self._attempts = {k: v for k, v in self._attempts.items() if v}
        return 0

    async def reset(self, key: str) -> None:
        with self._lock:
            self._attempts.pop(key, None)


class RedisLoginThrottle:
    """Fixed window per key: ``INCR`` and ``EXPIRE NX`` in one MULTI, so the count and its
    expiry are set together whatever else runs; answers from ``fallback`` while Redis fails."""

    def __init__(
        self,
        redis: Any,
        *,
        max_failures: int,
        window_seconds: int,
        fallback: LoginThrottle | None = None,
    ) -> None:
        self.redis = redis
        self.max_failures = max_failures
        self.window = window_seconds
        self.fallback = fallback or MemoryLoginThrottle(
            max_failures=max_failures, window_seconds=window_seconds
        )
        self._failed_at: float | None = None
        # Imported here: only an instance with Redis configured loads the client library.
        from redis.exceptions import RedisError

        self._errors: tuple[type[Exception], ...] = (OSError, RedisError)

    @staticmethod
    def _key(key: str) -> str:
        return f"kurobara:login-failures:{key}"

    def _redis_usable(self) -> bool:
        return self._failed_at is None or time.monotonic() - self._failed_at > REDIS_RETRY_SECONDS

    def _redis_failed(self, exc: Exception) -> None:
        self._failed_at = time.monotonic()
        logger.warning(
            "redis unreachable, login throttle counts in this process for %ds: %s",
            REDIS_RETRY_SECONDS,
            exc,
        )

    async def attempt(self, key: str) -> int:
        if self._redis_usable():
            try:
                return await self._attempt(key)
            except self._errors as exc:
                self._redis_failed(exc)
        return await self.fallback.attempt(key)

    async def _attempt(self, key: str) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._key(key))
            pipe.expire(self._key(key), self.window, nx=True)
            pipe.ttl(self._key(key))
            count, _, ttl = await pipe.execute()
        self._failed_at = None
        if int(count) <= self.max_failures:
            return 0
        return max(1, int(ttl))

    async def reset(self, key: str) -> None:
        await self.fallback.reset(key)
        if self._redis_usable():
            try:
                await self.redis.delete(self._key(key))
            except self._errors as exc:
                self._redis_failed(exc)


class FileLoginThrottle:
    """The workers of one machine counting together without Redis: a sliding window of attempt
    times per key in a small SQLite file (``<data_dir>/run/logins.db``), each attempt counted
    in one ``BEGIN IMMEDIATE`` transaction, so that the workers' concurrent guesses are counted
    one after another. Run in a thread: the file lock must not block the event loop."""

    def __init__(self, path: Path, *, max_failures: int, window_seconds: int) -> None:
        self.path = path
        self.max_failures = max_failures
        self.window = window_seconds
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS attempts (key TEXT NOT NULL, at REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS attempts_key ON attempts (key, at)")

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: the transactions below are written out.
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def _attempt(self, key: str, now: float) -> int:
        with contextlib.closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM attempts WHERE at <= ?", (now - self.window,))
                count, first = db.execute(
                    "SELECT count(*), min(at) FROM attempts WHERE key = ?", (key,)
                ).fetchone()
                if count >= self.max_failures:
                    db.execute("COMMIT")
                    return max(1, int(first + self.window - now) + 1)
                db.execute("INSERT INTO attempts (key, at) VALUES (?, ?)", (key, now))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return 0

    def _reset(self, key: str) -> None:
        with contextlib.closing(self._connect()) as db:
            db.execute("DELETE FROM attempts WHERE key = ?", (key,))

    async def attempt(self, key: str) -> int:
        # Wall-clock time: the workers' monotonic clocks need not agree.
        return await asyncio.to_thread(self._attempt, key, time.time())

    async def reset(self, key: str) -> None:
        await asyncio.to_thread(self._reset, key)
