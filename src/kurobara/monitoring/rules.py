"""The monitoring rules, pure: the status state machine, when a provider is due next, the
effective interval, and uptime / percentile math over hourly rollups. No I/O; time is an argument.

State machine (a *completed* check moves it; ``testing`` is only shown while one is in flight)::

    unknown --ok--> active            any --ok--> active (consecutive_failures = 0)
    unknown/active --fail--> same status while consecutive_failures < max_consecutive_failures
    unknown/active --fail--> down     once consecutive_failures reaches the threshold

Searches are passive evidence (``apply_search_failure``): a search that fails against a site
(timed out, refused, DNS, TLS, 5xx) counts at once; the failed checks in a row plus the spaced
search failures of the current window reaching the threshold mark it ``down`` without waiting
for three retry intervals. Passive evidence only ever moves a provider towards ``down``: a
search that succeeds never marks it ``active``, recovery is confirmed by a check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from kurobara.providers.base import HealthCheckResult

UNKNOWN = "unknown"
TESTING = "testing"
ACTIVE = "active"
DOWN = "down"
STATUSES: tuple[str, ...] = (UNKNOWN, TESTING, ACTIVE, DOWN)

# Only these flips reach people; unknown -> active on start-up is not news.
NOTIFIED_TRANSITIONS: frozenset[tuple[str, str]] = frozenset({(ACTIVE, DOWN), (DOWN, ACTIVE)})

WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}

# Response-time histogram bounds (ms) of the hourly rollups; the last bucket is open-ended.
# ``models.ProviderCheckHourly`` has one column per bound (``BUCKET_COLUMNS``).
RESPONSE_BUCKETS_MS: tuple[int, ...] = (50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000)

# A claimed check may run for its timeout; the lease outlives it by this much, after which
# another replica may take the check over (its claimer died).
LEASE_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True)
class StatusState:
    """The seed's counters of one provider, as the state machine sees them."""

    status: str = UNKNOWN
    consecutive_failures: int = 0
    total_checks: int = 0
    successful_checks: int = 0
    max_consecutive_failures: int = 3

    @property
    def uptime_percentage(self) -> int:
        return uptime_percentage(self.successful_checks, self.total_checks)


@dataclass(frozen=True)
class Applied:
    state: StatusState
    transition: tuple[str, str] | None
    at: datetime

    @property
    def notify(self) -> bool:
        return self.transition in NOTIFIED_TRANSITIONS


def uptime_percentage(successes: int, total: int) -> int:
    """0..100, rounded down so that 100 means "never failed"; 100 before any check (the seed)."""
    if total <= 0:
        return 100
    return min(100, math.floor(100 * successes / total))


def apply_result(
    state: StatusState, result: HealthCheckResult, now: datetime, *, search_failures: int = 0
) -> Applied:
    """The state after one completed check, and the transition it caused (if any).
    ``search_failures``: the failed searches of the current window (``live_search_failures``),
    which count with the failed checks towards the threshold."""
    if result.rate_limited:
        # The site is up but asked us to wait: counted as a check, never as a failure.
        new = replace(state, total_checks=state.total_checks + 1)
        return Applied(state=new, transition=None, at=now)
    if result.ok:
        new = replace(
            state,
            status=ACTIVE,
            consecutive_failures=0,
            total_checks=state.total_checks + 1,
            successful_checks=state.successful_checks + 1,
        )
    else:
        failures = state.consecutive_failures + 1
        below = failures + search_failures < state.max_consecutive_failures
        new = replace(
            state,
            status=state.status if below else DOWN,
            consecutive_failures=failures,
            total_checks=state.total_checks + 1,
        )
    transition = (state.status, new.status) if new.status != state.status else None
    return Applied(state=new, transition=transition, at=now)


# -- passive evidence: failed searches -----------------------------------------------------

# Search failures count towards an outage while they fall in a window this long (opened by the
# first of them); an older window starts over.
SEARCH_FAILURE_WINDOW = timedelta(seconds=60)
# Failures closer together than this are one piece of evidence: a burst of users searching at
# the same second is one observation of the site, not several.
SEARCH_FAILURE_SPACING = timedelta(seconds=2)
# Kinds that say the site itself is failing. A parse error or a bot challenge is a scraper or
# a blocking problem the checks judge; rate limiting and "not found" are answers.
OUTAGE_KINDS = frozenset({"timeout", "connect", "dns", "tls", "http_status"})


@dataclass(frozen=True)
class SearchFailures:
    """The spaced search failures of one provider's current window."""

    count: int = 0
    since: datetime | None = None
    last: datetime | None = None


def is_outage_evidence(kind: str | None, http_status: int | None) -> bool:
    """A search error that counts against the site: an HTTP error only when it is a 5xx."""
    if kind not in OUTAGE_KINDS:
        return False
    return kind != "http_status" or http_status is None or http_status >= 500


def add_search_failure(
    seen: SearchFailures,
    now: datetime,
    *,
    window: timedelta = SEARCH_FAILURE_WINDOW,
    spacing: timedelta = SEARCH_FAILURE_SPACING,
) -> SearchFailures:
    """The window after one more failed search at ``now``."""
    if seen.since is None or seen.count == 0 or now - seen.since > window:
        return SearchFailures(count=1, since=now, last=now)
    if seen.last is not None and now - seen.last < spacing:
        return seen
    return replace(seen, count=seen.count + 1, last=now)


def live_search_failures(
    seen: SearchFailures, now: datetime, *, window: timedelta = SEARCH_FAILURE_WINDOW
) -> int:
    """How many of ``seen`` still count at ``now`` (none once the window has passed)."""
    if seen.since is None or now - seen.since > window:
        return 0
    return seen.count


def apply_search_failure(state: StatusState, seen: SearchFailures, now: datetime) -> Applied:
    """The status after a failed search whose window is now ``seen``: ``down`` once failed
    checks in a row plus search failures reach the threshold, otherwise unchanged. Never
    ``active``, and no check is counted (uptime is the checks' alone)."""
    if state.status == DOWN:
        return Applied(state=state, transition=None, at=now)
    if state.consecutive_failures + seen.count < state.max_consecutive_failures:
        return Applied(state=state, transition=None, at=now)
    return Applied(state=replace(state, status=DOWN), transition=(state.status, DOWN), at=now)


def is_healthy(
    *, status: str, is_enabled: bool, consecutive_failures: int, max_consecutive_failures: int
) -> bool:
    return status == ACTIVE and is_enabled and consecutive_failures < max_consecutive_failures


def is_retrying(state: StatusState) -> bool:
    """Failing, but not yet ``down``: confirm (or clear) the outage quickly."""
    return 0 < state.consecutive_failures < state.max_consecutive_failures


def effective_interval(*, override: int | None, user_intervals: Iterable[int], default: int) -> int:
    """Minutes between checks: the admin's per-provider value when set, otherwise the shortest
    preference among active users, otherwise the instance default."""
    if override is not None:
        return override
    return min(user_intervals, default=default)


def next_check_at(
    state: StatusState,
    *,
    last_check: datetime,
    interval_minutes: int,
    retry_seconds: int,
    down_minutes: int | None = None,
    jitter_seconds: float = 0.0,
) -> datetime:
    """When the provider is due again: the retry interval while failing below the threshold;
    while ``down``, the interval capped at ``down_minutes`` (search skips a down provider, so
    only its checks can notice a recovery); else the interval. ``jitter_seconds`` is chosen by
    the caller (random in ``0..check_jitter_seconds``) so that a thousand providers do not fire
    in the same second."""
    if is_retrying(state):
        return last_check + timedelta(seconds=retry_seconds)
    if state.status == DOWN and down_minutes is not None:
        interval_minutes = min(interval_minutes, down_minutes)
    return last_check + timedelta(minutes=interval_minutes, seconds=jitter_seconds)


def lease_expiry(now: datetime, *, check_timeout: float) -> datetime:
    return now + timedelta(seconds=check_timeout) + LEASE_MARGIN


def lease_overdue(lease_expires_at: datetime | None, now: datetime) -> bool:
    """No check can still be running under this lease: none was taken, or the check's own
    timeout has passed (its holder died or is about to record). Only the margin is left."""
    return lease_expires_at is None or lease_expires_at <= now + LEASE_MARGIN


def display_status(status: str, *, lease_expires_at: datetime | None, now: datetime) -> str:
    """``testing`` while a lease says a check is in flight (within the check's timeout), else
    the completed status: a crashed replica's lease stops showing ``testing`` once its check
    could no longer be running."""
    if not lease_overdue(lease_expires_at, now):
        return TESTING
    return status


# -- history math -------------------------------------------------------------------------


class Rollup(Protocol):
    @property
    def hour(self) -> datetime: ...
    @property
    def checks(self) -> int: ...
    @property
    def successes(self) -> int: ...
    def buckets(self) -> list[int]: ...


def hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def window_start(window: str, now: datetime) -> datetime:
    """The first hour a window covers: whole hours, so a 24 h window read at 10:30 covers the
    hours from 10:00 yesterday on."""
    return hour_floor(now - WINDOWS[window])


def in_window(rollups: Iterable[Rollup], window: str, now: datetime) -> list[Rollup]:
    start = window_start(window, now)
    return [r for r in rollups if r.hour >= start]


def uptime(rollups: Iterable[Rollup], window: str, now: datetime) -> float | None:
    """Percent of successful checks in the window, None when nothing was checked."""
    selected = in_window(rollups, window, now)
    total = sum(r.checks for r in selected)
    if total == 0:
        return None
    return round(100 * sum(r.successes for r in selected) / total, 2)


def merge_buckets(rollups: Iterable[Rollup]) -> list[int]:
    merged = [0] * (len(RESPONSE_BUCKETS_MS) + 1)
    for rollup in rollups:
        for i, count in enumerate(rollup.buckets()):
            merged[i] += count
    return merged


def bucket_index(response_ms: int) -> int:
    for i, bound in enumerate(RESPONSE_BUCKETS_MS):
        if response_ms <= bound:
            return i
    return len(RESPONSE_BUCKETS_MS)


def percentile(buckets: Sequence[int], q: float) -> int | None:
    """The q-quantile (0 < q <= 1) of a response-time histogram, interpolated linearly inside
    its bucket as Prometheus' ``histogram_quantile`` does; the open last bucket answers with its
    lower bound. None for an empty histogram."""
    total = sum(buckets)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for i, count in enumerate(buckets):
        if count and seen + count >= rank:
            if i == len(RESPONSE_BUCKETS_MS):
                return RESPONSE_BUCKETS_MS[-1]
            lower = RESPONSE_BUCKETS_MS[i - 1] if i > 0 else 0
            upper = RESPONSE_BUCKETS_MS[i]
            return round(lower + (upper - lower) * (rank - seen) / count)
        seen += count
    return RESPONSE_BUCKETS_MS[-1]


# The dashboard's recent checks per provider: the ticks of a heartbeat bar and the points of
# its response-time sparkline. Enough to see a pattern at a glance, few enough for a phone.
RECENT_CHECKS = 40
SPARKLINE_WIDTH = 120
SPARKLINE_HEIGHT = 28
SPARKLINE_PAD = 2.0


@dataclass(frozen=True)
class SparklineShape:
    """A response-time sparkline as SVG path data: ``line`` for the measured points (empty when
    nothing was measured) and ``end`` for the dot on the newest one. The server draws the page
    and providers.js redraws live rows from this one computation."""

    line: str
    end: str | None
    count: int
    low: int | None
    high: int | None


def sparkline_shape(
    values: Sequence[int | None],
    *,
    width: int = SPARKLINE_WIDTH,
    height: int = SPARKLINE_HEIGHT,
    slots: int | None = None,
) -> SparklineShape:
    """Response times oldest first; ``None`` (a failed check) breaks the line so an outage
    shows as a gap rather than as a fake fast answer. The fastest value sits on the bottom
    edge, the slowest on the top; equal values draw a flat line in the middle. With ``slots``
    the values are right-aligned among that many positions, so a short history lines up under
    the newest ticks of a heartbeat bar of that size."""
    pad = SPARKLINE_PAD
    measured = [v for v in values if v is not None]
    if not measured:
        return SparklineShape(line="", end=None, count=0, low=None, high=None)
    low, high = min(measured), max(measured)
    positions = max(slots or 0, len(values))
    offset = positions - len(values)
    step = (width - 2 * pad) / max(positions - 1, 1)
    span = high - low
    commands: list[str] = []
    pen_down = False
    last: tuple[float, float] | None = None
    for index, value in enumerate(values):
        if value is None:
            pen_down = False
            continue
        x = pad + (offset + index) * step
        y = height / 2 if span == 0 else pad + (high - value) / span * (height - 2 * pad)
        commands.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
        pen_down = True
        last = (x, y)
    end = None if last is None else f"M{last[0]:.1f} {last[1]:.1f}h0"
    return SparklineShape(line=" ".join(commands), end=end, count=len(measured), low=low, high=high)
