"""The pure rules: state machine, threshold, intervals, due times, uptime and percentiles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from kurobara.monitoring import rules
from kurobara.monitoring.models import RESPONSE_BUCKETS_MS
from kurobara.monitoring.rules import ACTIVE, DOWN, UNKNOWN, StatusState
from kurobara.providers.base import HealthCheckResult

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
OK = HealthCheckResult(ok=True, response_ms=120, http_status=200)
FAIL = HealthCheckResult(ok=False, response_ms=1000, error="timed out", error_kind="timeout")
# The site answered "too many requests": it is up, so the check neither fails nor succeeds it.
LIMITED = HealthCheckResult(ok=False, error="rate limited (HTTP 429)", error_kind="rate_limited")


@pytest.mark.parametrize(
    ("before", "failures", "result", "after", "after_failures", "transition"),
    [
        (UNKNOWN, 0, OK, ACTIVE, 0, (UNKNOWN, ACTIVE)),
        (UNKNOWN, 0, FAIL, UNKNOWN, 1, None),
        (UNKNOWN, 2, FAIL, DOWN, 3, (UNKNOWN, DOWN)),
        (ACTIVE, 0, OK, ACTIVE, 0, None),
        (ACTIVE, 0, FAIL, ACTIVE, 1, None),
        (ACTIVE, 1, FAIL, ACTIVE, 2, None),
        (ACTIVE, 2, FAIL, DOWN, 3, (ACTIVE, DOWN)),
        (ACTIVE, 2, OK, ACTIVE, 0, None),
        (DOWN, 3, FAIL, DOWN, 4, None),
        (DOWN, 7, OK, ACTIVE, 0, (DOWN, ACTIVE)),
        (UNKNOWN, 0, LIMITED, UNKNOWN, 0, None),
        (ACTIVE, 2, LIMITED, ACTIVE, 2, None),
        (DOWN, 3, LIMITED, DOWN, 3, None),
    ],
)
def test_apply_result_moves_the_state_machine(
    before: str,
    failures: int,
    result: HealthCheckResult,
    after: str,
    after_failures: int,
    transition: tuple[str, str] | None,
) -> None:
    state = StatusState(status=before, consecutive_failures=failures, total_checks=10,
                        successful_checks=5)  # fmt: skip
    applied = rules.apply_result(state, result, NOW)
    assert applied.state.status == after
    assert applied.state.consecutive_failures == after_failures
    assert applied.transition == transition
    assert applied.state.total_checks == 11
    assert applied.state.successful_checks == 5 + int(result.ok)


@pytest.mark.parametrize(("threshold", "failures_to_down"), [(1, 1), (3, 3), (5, 5)])
def test_it_goes_down_exactly_at_the_threshold(threshold: int, failures_to_down: int) -> None:
    state = StatusState(status=ACTIVE, max_consecutive_failures=threshold)
    for n in range(1, failures_to_down + 1):
        state = rules.apply_result(state, FAIL, NOW).state
        assert (state.status == DOWN) == (n == failures_to_down)


@pytest.mark.parametrize(
    ("transition", "notify"),
    [((ACTIVE, DOWN), True), ((DOWN, ACTIVE), True), ((UNKNOWN, ACTIVE), False),
     ((UNKNOWN, DOWN), False), (None, False)],
)  # fmt: skip
def test_only_active_down_flips_notify(transition: tuple[str, str] | None, notify: bool) -> None:
    assert rules.Applied(state=StatusState(), transition=transition, at=NOW).notify is notify


@pytest.mark.parametrize(
    ("successes", "total", "percent"),
    [(0, 0, 100), (1, 1, 100), (0, 1, 0), (199, 200, 99), (1, 3, 33), (2, 3, 66)],
)
def test_uptime_percentage_rounds_down(successes: int, total: int, percent: int) -> None:
    assert rules.uptime_percentage(successes, total) == percent


@pytest.mark.parametrize(
    ("status", "enabled", "failures", "healthy"),
    [(ACTIVE, True, 0, True), (ACTIVE, False, 0, False), (DOWN, True, 0, False),
     (UNKNOWN, True, 0, False), (ACTIVE, True, 3, False), (ACTIVE, True, 2, True)],
)  # fmt: skip
def test_is_healthy(status: str, enabled: bool, failures: int, healthy: bool) -> None:
    assert (
        rules.is_healthy(
            status=status, is_enabled=enabled, consecutive_failures=failures,
            max_consecutive_failures=3,
        )
        is healthy
    )  # fmt: skip


@pytest.mark.parametrize(
    ("override", "users", "expected"),
    [(None, [], 60), (None, [120], 120), (None, [1440, 30, 120], 30), (15, [30], 15),
     (43200, [30], 43200)],
)  # fmt: skip
def test_effective_interval(override: int | None, users: list[int], expected: int) -> None:
    assert rules.effective_interval(override=override, user_intervals=users, default=60) == expected


@pytest.mark.parametrize(
    ("state", "jitter", "delay"),
    [
        (StatusState(status=ACTIVE), 0, timedelta(minutes=60)),
        (StatusState(status=ACTIVE), 17, timedelta(minutes=60, seconds=17)),
        (StatusState(status=ACTIVE, consecutive_failures=1), 17, timedelta(seconds=90)),
        (StatusState(status=UNKNOWN, consecutive_failures=2), 0, timedelta(seconds=90)),
        (StatusState(status=DOWN, consecutive_failures=3), 0, timedelta(minutes=5)),
        (StatusState(status=DOWN, consecutive_failures=9), 7, timedelta(minutes=5, seconds=7)),
    ],
)
def test_next_check_at_retries_below_the_threshold_and_caps_the_interval_while_down(
    state: StatusState, jitter: float, delay: timedelta
) -> None:
    due = rules.next_check_at(
        state, last_check=NOW, interval_minutes=60, retry_seconds=90, down_minutes=5,
        jitter_seconds=jitter,
    )  # fmt: skip
    assert due == NOW + delay


def test_down_provider_with_a_short_interval_keeps_it() -> None:
    state = StatusState(status=DOWN, consecutive_failures=3)
    due = rules.next_check_at(
        state, last_check=NOW, interval_minutes=2, retry_seconds=90, down_minutes=5
    )
    assert due == NOW + timedelta(minutes=2)


@pytest.mark.parametrize(
    ("lease", "shown"),
    [(None, ACTIVE),
     (NOW + rules.LEASE_MARGIN + timedelta(seconds=1), "testing"),
     # Within the margin only: the check's own timeout has passed, its holder died mid-check.
     (NOW + rules.LEASE_MARGIN, ACTIVE),
     (NOW + timedelta(seconds=1), ACTIVE),
     (NOW - timedelta(seconds=1), ACTIVE)],
)  # fmt: skip
def test_testing_is_shown_while_a_check_may_be_running(lease: datetime | None, shown: str) -> None:
    assert rules.display_status(ACTIVE, lease_expires_at=lease, now=NOW) == shown


@dataclass
class Hour:
    hour: datetime
    checks: int
    successes: int
    counts: list[int] = field(default_factory=lambda: [0] * (len(RESPONSE_BUCKETS_MS) + 1))

    def buckets(self) -> list[int]:
        return self.counts


@pytest.mark.parametrize(("window", "expected"), [("24h", 50.0), ("7d", 75.0), ("30d", 87.5)])
def test_uptime_reads_whole_hours_of_the_window(window: str, expected: float) -> None:
    hours = [
        Hour(NOW.replace(minute=0), 2, 1),  # this hour
        Hour(NOW.replace(minute=0) - timedelta(days=3), 2, 2),
        Hour(NOW.replace(minute=0) - timedelta(days=20), 4, 4),
        Hour(NOW.replace(minute=0) - timedelta(days=40), 100, 0),  # outside every window
    ]
    assert rules.uptime(hours, window, NOW) == expected


def test_uptime_is_none_without_checks() -> None:
    assert rules.uptime([], "24h", NOW) is None


@pytest.mark.parametrize(
    ("ms", "index"), [(0, 0), (50, 0), (51, 1), (1000, 5), (10000, 9), (10001, 10)]
)
def test_bucket_index(ms: int, index: int) -> None:
    assert rules.bucket_index(ms) == index


@pytest.mark.parametrize(
    ("counts", "q", "expected"),
    [
        ({}, 0.5, None),
        ({0: 10}, 0.5, 25),  # all in 0..50 ms: the median interpolates to the middle
        ({1: 10}, 0.5, 75),
        ({0: 50, 4: 50}, 0.5, 50),
        ({0: 50, 4: 50}, 0.95, 480),
        ({10: 3}, 0.95, 10000),  # the open bucket answers with its lower bound
    ],
)
def test_percentile_from_histogram(counts: dict[int, int], q: float, expected: int | None) -> None:
    buckets = [counts.get(i, 0) for i in range(len(RESPONSE_BUCKETS_MS) + 1)]
    assert rules.percentile(buckets, q) == expected


def test_window_start_is_an_hour_boundary() -> None:
    assert rules.window_start("24h", NOW) == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
