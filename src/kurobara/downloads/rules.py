"""Pure rules of downloads: the states a chapter's download goes through, what a failure does
to it, why a provider makes it wait, and the progress a queue row shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

QUEUED = "queued"
RUNNING = "running"
WAITING = "waiting"
DONE = "done"
FAILED = "failed"
STATES: tuple[str, ...] = (QUEUED, RUNNING, WAITING, DONE, FAILED)
# States a Downloader may pick up (a running one only once its lease has expired).
WORKABLE: tuple[str, ...] = (QUEUED, WAITING)

# Retry delays after the 1st, 2nd, ... failure (the last repeats).
BACKOFF_SECONDS: tuple[float, ...] = (30.0, 120.0, 600.0)
REASON_LIMIT = 500

_WAIT_REASONS = {
    "down": "provider down",
    "disabled": "provider disabled",
    "unregistered": "provider not configured",
}


def wait_reason(skip: str) -> str:
    """The queue's words for why a provider is not asked (``reading.service.skip_reason``)."""
    return _WAIT_REASONS.get(skip, f"provider {skip}")


@dataclass(frozen=True)
class AfterFailure:
    state: str
    attempts: int
    next_attempt_at: datetime
    reason: str


def after_failure(
    *, attempts: int, max_attempts: int, kind: str, message: str, now: datetime
) -> AfterFailure:
    """A real failure (the site answered wrongly, a page was not an image, ...): queued again
    after a growing delay, or ``failed`` with the reason once ``max_attempts`` are spent."""
    count = attempts + 1
    reason = f"{kind}: {message}"[:REASON_LIMIT]
    if count >= max_attempts:
        return AfterFailure(FAILED, count, now, reason)
    delay = BACKOFF_SECONDS[min(count, len(BACKOFF_SECONDS)) - 1]
    return AfterFailure(QUEUED, count, now + timedelta(seconds=delay), reason)


def lease_until(now: datetime, lease_seconds: float) -> datetime:
    return now + timedelta(seconds=lease_seconds)


def progress(pages_done: int, page_count: int | None, state: str) -> float:
    """The share done, 0..1 (a done download is whole even before its count was known)."""
    if state == DONE:
        return 1.0
    if not page_count:
        return 0.0
    return min(1.0, pages_done / page_count)
