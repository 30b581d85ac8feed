"""Where the monitor gets the time: injected, so that scheduling tests move a clock instead of
sleeping."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from kurobara.db.types import utcnow


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()
