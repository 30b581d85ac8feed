"""Properties of the pure monitoring rules over generated inputs (Hypothesis): the state
machine's invariants over any run of results, the order of due times, percentiles that never
fall as the quantile or the responses rise, and uptime within its bounds.

test_rules.py pins the exact values; these hold for every input the strategies produce."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kurobara.monitoring import rules
from kurobara.monitoring.models import RESPONSE_BUCKETS_MS
from kurobara.monitoring.rules import ACTIVE, DOWN, TESTING, UNKNOWN, StatusState
from kurobara.providers.base import HealthCheckResult

# Pure functions: no deadline (the machine is shared, and speed is not the property).
properties = settings(deadline=None, max_examples=100)

OK = HealthCheckResult(ok=True, response_ms=120, http_status=200)
FAIL = HealthCheckResult(ok=False, response_ms=1000, error="timed out", error_kind="timeout")
BUCKETS = len(RESPONSE_BUCKETS_MS) + 1

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
runs = st.lists(st.booleans(), max_size=60)
thresholds = st.integers(min_value=1, max_value=10)
histograms = st.lists(
    st.integers(min_value=0, max_value=10_000), min_size=BUCKETS, max_size=BUCKETS
)
quantiles = st.floats(min_value=0.0, max_value=1.0, exclude_min=True)
states = st.builds(
    StatusState,
    status=st.sampled_from([UNKNOWN, ACTIVE, DOWN]),
    consecutive_failures=st.integers(min_value=0, max_value=20),
    max_consecutive_failures=thresholds,
)


def play(results: list[bool], threshold: int) -> tuple[StatusState, list[rules.Applied]]:
    state = StatusState(max_consecutive_failures=threshold)
    applied = []
    for ok in results:
        step = rules.apply_result(state, OK if ok else FAIL, datetime(2026, 1, 1, tzinfo=UTC))
        applied.append(step)
        state = step.state
    return state, applied


def trailing_failures(results: list[bool]) -> int:
    return len(results) - (max(i for i, ok in enumerate(results) if ok) + 1 if any(results) else 0)


# -- the state machine ---------------------------------------------------------------------


@properties
@given(runs, thresholds)
def test_counters_add_up_over_any_run(results: list[bool], threshold: int) -> None:
    state, _ = play(results, threshold)
    assert state.total_checks == len(results)
    assert state.successful_checks == sum(results)
    assert state.consecutive_failures == trailing_failures(results)
    assert 0 <= state.uptime_percentage <= 100


@properties
@given(runs, thresholds)
def test_status_follows_from_the_run(results: list[bool], threshold: int) -> None:
    state, _ = play(results, threshold)
    if trailing_failures(results) >= threshold:
        assert state.status == DOWN
    elif any(results):
        assert state.status == ACTIVE
    else:
        assert state.status == UNKNOWN
    assert state.status != TESTING, "testing is only ever displayed, never stored"


@properties
@given(runs, thresholds)
def test_transitions_are_exactly_the_status_changes(results: list[bool], threshold: int) -> None:
    _, applied = play(results, threshold)
    before = UNKNOWN
    for step in applied:
        changed = step.state.status != before
        assert step.transition == ((before, step.state.status) if changed else None)
        before = step.state.status


@properties
@given(runs, thresholds)
def test_notified_flips_alternate_down_and_up(results: list[bool], threshold: int) -> None:
    _, applied = play(results, threshold)
    notified = [step.transition for step in applied if step.notify]
    assert all(a != b for a, b in itertools.pairwise(notified))
    assert all(t in rules.NOTIFIED_TRANSITIONS for t in notified)


@properties
@given(states, st.booleans())
def test_one_check_moves_the_counters_by_one(state: StatusState, ok: bool) -> None:
    after = rules.apply_result(state, OK if ok else FAIL, datetime(2026, 1, 1, tzinfo=UTC)).state
    assert after.total_checks == state.total_checks + 1
    assert after.successful_checks == state.successful_checks + int(ok)
    if ok:
        assert (after.status, after.consecutive_failures) == (ACTIVE, 0)
    else:
        assert after.consecutive_failures == state.consecutive_failures + 1
        assert after.status in {state.status, DOWN}
        assert (after.status == DOWN) or after.consecutive_failures < state.max_consecutive_failures


@properties
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000))
def test_uptime_percentage_is_100_only_without_failures(successes: int, failures: int) -> None:
    percent = rules.uptime_percentage(successes, successes + failures)
    assert 0 <= percent <= 100
    assert (percent == 100) == (failures == 0)
    assert percent <= rules.uptime_percentage(successes + 1, successes + 1 + failures)


# -- when a provider is due next -----------------------------------------------------------

intervals = st.integers(min_value=1, max_value=43200)
retries = st.integers(min_value=1, max_value=3600)
jitters = st.floats(min_value=0, max_value=300)


@properties
@given(states, moments, intervals, retries, intervals, jitters)
def test_the_next_check_is_always_after_the_last(
    state: StatusState,
    last: datetime,
    interval: int,
    retry: int,
    down: int,
    jitter: float,
) -> None:
    due = rules.next_check_at(
        state,
        last_check=last,
        interval_minutes=interval,
        retry_seconds=retry,
        down_minutes=down,
        jitter_seconds=jitter,
    )
    assert due > last
    if rules.is_retrying(state):
        assert due == last + timedelta(seconds=retry)
    else:
        assert due - last <= timedelta(minutes=interval, seconds=jitter)
        if state.status == DOWN:
            assert due - last <= timedelta(minutes=down, seconds=jitter)


@properties
@given(states, moments, st.lists(intervals, min_size=2, max_size=2), retries, jitters)
def test_a_longer_interval_is_never_due_sooner(
    state: StatusState, last: datetime, pair: list[int], retry: int, jitter: float
) -> None:
    shorter, longer = sorted(pair)

    def due(interval: int) -> datetime:
        return rules.next_check_at(
            state,
            last_check=last,
            interval_minutes=interval,
            retry_seconds=retry,
            down_minutes=5,
            jitter_seconds=jitter,
        )

    assert due(shorter) <= due(longer)


@properties
@given(states, moments, st.integers(min_value=0, max_value=10**6), intervals, retries, jitters)
def test_a_later_last_check_is_never_due_sooner(
    state: StatusState, last: datetime, later_by: int, interval: int, retry: int, jitter: float
) -> None:
    def due(at: datetime) -> datetime:
        return rules.next_check_at(
            state, last_check=at, interval_minutes=interval, retry_seconds=retry,
            jitter_seconds=jitter,
        )  # fmt: skip

    assert due(last) <= due(last + timedelta(seconds=later_by))


@properties
@given(moments, intervals, intervals, jitters)
def test_a_down_provider_is_never_due_later_than_an_active_one(
    last: datetime, interval: int, down: int, jitter: float
) -> None:
    def due(status: str, failures: int) -> datetime:
        return rules.next_check_at(
            StatusState(status=status, consecutive_failures=failures),
            last_check=last,
            interval_minutes=interval,
            retry_seconds=60,
            down_minutes=down,
            jitter_seconds=jitter,
        )

    assert due(DOWN, 3) <= due(ACTIVE, 0)


@properties
@given(st.one_of(st.none(), intervals), st.lists(intervals, max_size=8), intervals, intervals)
def test_another_users_preference_never_lengthens_the_interval(
    override: int | None, users: list[int], default: int, extra: int
) -> None:
    before = rules.effective_interval(override=override, user_intervals=users, default=default)
    after = rules.effective_interval(
        override=override, user_intervals=[*users, extra], default=default
    )
    if override is not None:
        assert before == after == override
    elif users:
        assert after <= before
    else:
        assert after == extra, "the first preference replaces the instance default"


@properties
@given(st.sampled_from([UNKNOWN, ACTIVE, DOWN]), st.one_of(st.none(), moments), moments)
def test_testing_is_shown_exactly_while_the_lease_is_live(
    status: str, lease: datetime | None, now: datetime
) -> None:
    shown = rules.display_status(status, lease_expires_at=lease, now=now)
    assert shown == (TESTING if lease is not None and lease > now else status)


# -- percentiles ---------------------------------------------------------------------------


@properties
@given(histograms, quantiles, quantiles)
def test_a_higher_quantile_is_never_faster(counts: list[int], q1: float, q2: float) -> None:
    low, high = sorted((q1, q2))
    p_low, p_high = rules.percentile(counts, low), rules.percentile(counts, high)
    if sum(counts) == 0:
        assert p_low is None
        assert p_high is None
        return
    assert p_low is not None
    assert p_high is not None
    assert 0 <= p_low <= p_high <= RESPONSE_BUCKETS_MS[-1]


@properties
@given(histograms.filter(any), quantiles)
def test_a_slower_response_never_lowers_a_percentile_and_a_faster_never_raises_it(
    counts: list[int], q: float
) -> None:
    before = rules.percentile(counts, q)
    slowest, fastest = list(counts), list(counts)
    slowest[-1] += 1
    fastest[0] += 1
    assert before is not None
    assert rules.percentile(fastest, q) <= before <= rules.percentile(slowest, q)  # type: ignore[operator]


@properties
@given(histograms, quantiles)
def test_a_percentile_lies_within_the_observed_buckets(counts: list[int], q: float) -> None:
    value = rules.percentile(counts, q)
    used = [i for i, count in enumerate(counts) if count]
    if not used:
        assert value is None
        return
    bounds = (0, *RESPONSE_BUCKETS_MS, RESPONSE_BUCKETS_MS[-1])
    assert value is not None
    assert bounds[used[0]] <= value <= bounds[used[-1] + 1]


@properties
@given(st.lists(st.integers(min_value=0, max_value=60_000), min_size=1, max_size=50))
def test_bucket_index_is_monotonic_and_in_range(responses: list[int]) -> None:
    indexes = [rules.bucket_index(ms) for ms in sorted(responses)]
    assert indexes == sorted(indexes)
    assert all(0 <= i < BUCKETS for i in indexes)


# -- uptime over hourly rollups ------------------------------------------------------------


@dataclass(frozen=True)
class Hour:
    hour: datetime
    checks: int
    successes: int

    def buckets(self) -> list[int]:
        return [self.checks] + [0] * (BUCKETS - 1)


@st.composite
def hours(draw: st.DrawFn, now: datetime) -> list[Hour]:
    """Distinct hourly rollups from up to 40 days before ``now`` to its hour."""
    ago = draw(st.lists(st.integers(min_value=0, max_value=40 * 24), unique=True, max_size=30))
    made = []
    for back in ago:
        checks = draw(st.integers(min_value=0, max_value=60))
        successes = draw(st.integers(min_value=0, max_value=checks))
        made.append(Hour(rules.hour_floor(now) - timedelta(hours=back), checks, successes))
    return made


windows = st.sampled_from(sorted(rules.WINDOWS))


@properties
@given(moments.flatmap(lambda now: st.tuples(st.just(now), hours(now))), windows)
def test_uptime_is_a_percentage_or_none_without_checks(
    drawn: tuple[datetime, list[Hour]], window: str
) -> None:
    now, rollups = drawn
    value = rules.uptime(rollups, window, now)
    selected = rules.in_window(rollups, window, now)
    if sum(r.checks for r in selected) == 0:
        assert value is None
        return
    assert value is not None
    assert 0 <= value <= 100
    rates = [100 * r.successes / r.checks for r in selected if r.checks]
    # A weighted mean of the hours' rates, rounded to two places.
    assert min(rates) - 0.005 <= value <= max(rates) + 0.005


@properties
@given(moments.flatmap(lambda now: st.tuples(st.just(now), hours(now))), windows)
def test_hours_before_the_window_do_not_count(
    drawn: tuple[datetime, list[Hour]], window: str
) -> None:
    now, rollups = drawn
    start = rules.window_start(window, now)
    inside = [r for r in rollups if r.hour >= start]
    assert rules.uptime(rollups, window, now) == rules.uptime(inside, window, now)
    assert all(r.hour >= start for r in rules.in_window(rollups, window, now))
    assert start.minute == start.second == start.microsecond == 0


@properties
@given(moments.flatmap(lambda now: st.tuples(st.just(now), hours(now))))
def test_merged_buckets_count_every_check(drawn: tuple[datetime, list[Hour]]) -> None:
    _, rollups = drawn
    merged = rules.merge_buckets(rollups)
    assert len(merged) == BUCKETS
    assert sum(merged) == sum(r.checks for r in rollups)
