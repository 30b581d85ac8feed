"""The per-provider request gate of the shared HTTP client: requests to one site at least
``1/rate`` seconds apart, and none at all while the site has asked us to wait (a 429 with
``Retry-After``).

Callers queue in order (``asyncio.Lock`` is fair). A caller takes its slot only when it is let
through, so one cancelled while waiting, or cut by its deadline, leaves no gap behind for the
others to wait out. The caller's deadline wraps the wait: a slot too far away is a timeout of
that caller, not an extra delay before its own timeout starts.
"""

from __future__ import annotations

import asyncio
import time

from kurobara.providers.errors import RateLimited


class RateLimiter:
    def __init__(self, rate: float | None = None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._last_sent = float("-inf")
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """No request until ``seconds`` from now (never shortens a longer pause)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    @property
    def paused_for(self) -> float:
        """Seconds until the site's requested pause ends; 0 when there is none."""
        return max(0.0, self._paused_until - time.monotonic())

    async def acquire(self, deadline: float | None = None) -> None:
        """Wait for this caller's turn. A pause the site asked for that outlasts ``deadline``
        (``time.monotonic()`` based) fails at once as ``RateLimited`` instead of waiting."""
        async with self._lock:
            while True:
                now = time.monotonic()
                if deadline is not None and self._paused_until > deadline:
                    wait = self._paused_until - now
                    raise RateLimited(
                        f"the site asked to wait {wait:.0f} s more (HTTP 429)", retry_after=wait
                    )
                ready = max(self._last_sent + self.interval, self._paused_until)
                if ready <= now:
                    self._last_sent = now
                    return
                # Holding the lock while asleep keeps the queue in order; a pause that arrives
                # meanwhile is seen on waking.
                await asyncio.sleep(ready - now)
