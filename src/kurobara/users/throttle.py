"""Login throttling: after N failed logins for one username from one client, answer 429 until the
window passes. In-process by default; shared through Redis when ``KUROBARA_REDIS_URL`` is set, so
that replicas count together."""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Protocol


class LoginThrottle(Protocol):
    async def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it may now."""

    async def record_failure(self, key: str) -> None: ...

    async def reset(self, key: str) -> None: ...


class MemoryLoginThrottle:
    def __init__(self, *, max_failures: int, window_seconds: int) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        horizon = time.monotonic() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures

    async def retry_after(self, key: str) -> int:
        failures = self._recent(key)
        if len(failures) < self.max_failures:
            return 0
        return max(1, int(failures[0] + self.window - time.monotonic()) + 1)

    async def record_failure(self, key: str) -> None:
        self._recent(key).append(time.monotonic())
        if len(self._failures) > 100_000:  # bound memory under a credential-stuffing flood
            self._failures = {k: v for k, v in self._failures.items() if v}

    async def reset(self, key: str) -> None:
        self._failures.pop(key, None)


class RedisLoginThrottle:
    """Fixed window per key: INCR, with the expiry set on the first failure."""

    def __init__(self, redis: Any, *, max_failures: int, window_seconds: int) -> None:
        self.redis = redis
        self.max_failures = max_failures
        self.window = window_seconds

    @staticmethod
    def _key(key: str) -> str:
        return f"kurobara:login-failures:{key}"

    async def retry_after(self, key: str) -> int:
        count = await self.redis.get(self._key(key))
        if count is None or int(count) < self.max_failures:
            return 0
        ttl = await self.redis.ttl(self._key(key))
        return max(1, int(ttl))

    async def record_failure(self, key: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._key(key))
            pipe.expire(self._key(key), self.window, nx=True)
            await pipe.execute()

    async def reset(self, key: str) -> None:
        await self.redis.delete(self._key(key))
