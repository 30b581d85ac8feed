"""Pure rules of library updates: what is skipped and why, when the next scheduled run is due,
how long a 429 pauses a provider, how a failed notification backs off, and the message text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

OUTCOMES: tuple[str, ...] = ("new_chapters", "no_change", "skipped", "failed")
NOTIFY_SCOPES: tuple[str, ...] = ("favorites", "library", "off")
MIN_INTERVAL_HOURS = 1
MAX_INTERVAL_HOURS = 168

# Why a source was not refreshed.
COMPLETED = "completed"
PROVIDER_DOWN = "provider_down"
PROVIDER_DISABLED = "provider_disabled"
PROVIDER_UNAVAILABLE = "provider_unavailable"  # no longer in the registry
READING_REASONS = {
    "down": PROVIDER_DOWN,
    "disabled": PROVIDER_DISABLED,
    "unregistered": PROVIDER_UNAVAILABLE,
}
# Skips that a provider's recovery (down -> active) undoes.
PROVIDER_SKIPS = frozenset({PROVIDER_DOWN, PROVIDER_DISABLED})

# A 429 without Retry-After pauses the provider this long; a Retry-After beyond the cap is
# treated as the cap, so one odd header cannot stall a provider's updates for a day.
DEFAULT_PAUSE_SECONDS = 60.0
MAX_PAUSE_SECONDS = 3600.0

# Notification retries: 1 min, 2, 4, ... capped at 6 h; after MAX_SEND_ATTEMPTS it is dropped.
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=6)
MAX_SEND_ATTEMPTS = 10
# Chapters listed per manga in one message before "and N more".
LISTED_PER_MANGA = 5


def skip_reason(reading_reason: str) -> str:
    """Our word for a reason the reading service gave for not asking a provider."""
    return READING_REASONS.get(reading_reason, reading_reason)


def series_skip(*, manga_status: str | None, skip_completed: bool) -> str | None:
    """Smart skips of the series itself: a completed series gains no chapters."""
    if skip_completed and (manga_status or "").lower() == COMPLETED:
        return COMPLETED
    return None


def next_scheduled(*, last: datetime | None, hours: int, now: datetime) -> datetime:
    """When the next scheduled run is due: ``hours`` after the last one; at once when none
    ever ran."""
    return now if last is None else last + timedelta(hours=hours)


def pause_until(now: datetime, retry_after: float | None) -> datetime:
    seconds = DEFAULT_PAUSE_SECONDS if retry_after is None or retry_after <= 0 else retry_after
    return now + timedelta(seconds=min(seconds, MAX_PAUSE_SECONDS))


def retry_delay(attempts: int) -> timedelta:
    """How long a notification waits after its ``attempts``-th failure."""
    delay: timedelta = FIRST_RETRY * (2 ** max(0, attempts - 1))
    return min(delay, MAX_RETRY)


def lease_expiry(now: datetime, *, timeout: float) -> datetime:
    """A refresh lease outlives one refresh (a few requests, each within the timeout); a replica
    that dies holding it frees the source after this."""
    return now + timedelta(seconds=timeout * 4 + 30)


@dataclass(frozen=True)
class NewChapter:
    manga_title: str
    number: str | None
    title: str | None


def chapter_label(chapter: NewChapter) -> str:
    if chapter.number and chapter.title:
        return f"Ch. {chapter.number}: {chapter.title}"
    if chapter.number:
        return f"Ch. {chapter.number}"
    return chapter.title or "New chapter"


def message(chapters: Sequence[NewChapter]) -> tuple[str, str]:
    """One message for one user and run: the new chapters grouped by manga, in given order."""
    groups: dict[str, list[NewChapter]] = {}
    for chapter in chapters:
        groups.setdefault(chapter.manga_title, []).append(chapter)
    count, series = len(chapters), len(groups)
    title = (
        f"Kurobara: {count} new chapter{'s' * (count != 1)} in {series} series"
        if series > 1
        else f"Kurobara: {count} new chapter{'s' * (count != 1)} of {next(iter(groups), '')}"
    )
    lines: list[str] = []
    for manga_title, items in groups.items():
        lines.append(f"{manga_title}:")
        lines.extend(f"  - {chapter_label(c)}" for c in items[:LISTED_PER_MANGA])
        if len(items) > LISTED_PER_MANGA:
            lines.append(f"  - and {len(items) - LISTED_PER_MANGA} more")
    return title, "\n".join(lines)
