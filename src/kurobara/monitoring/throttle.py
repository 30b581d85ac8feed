"""How often one user may press "Test now" for one provider: at most
``KUROBARA_MANUAL_TEST_LIMIT`` checks per ``KUROBARA_MANUAL_TEST_WINDOW_SECONDS`` (fixed
window), admins exempt. Presses that join a check already in flight count too: the limit is on
asking, so a script cannot keep a provider's site busy through us. In-process by default;
through Redis when configured, so that replicas count together. A Redis that fails lets the
press through (logged): the limit protects sites, it must not lock users out."""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

logger = logging.getLogger("kurobara.monitoring")

# Keys kept in memory at most; beyond it, empty windows are dropped.
_MAX_KEYS = 100_000


class ManualTestLimiter:
    def __init__(self, *, redis: Any, limit: int, window_seconds: int) -> None:
        self.redis = redis
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = {}

    async def hit(self, *, user_id: object, provider_id: str) -> int:
        """Count one press; 0 when it may run, else the seconds until the next one may."""
        key = f"{user_id}:{provider_id}"
        if self.redis is not None:
            try:
                return await self._hit_redis(key)
            except Exception:
                logger.warning("manual test limit: Redis failed; counting in process")
        return self._hit_memory(key)

    def _hit_memory(self, key: str) -> int:
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, int(hits[0] + self.window - now) + 1)
        hits.append(now)
        if len(self._hits) > _MAX_KEYS:
            self._hits = {k: v for k, v in self._hits.items() if v}
        return 0

    async def _hit_redis(self, key: str) -> int:
        name = f"kurobara:manual-tests:{key}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, self.window, nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        if int(count) > self.limit:
            return max(1, int(ttl))
        return 0
