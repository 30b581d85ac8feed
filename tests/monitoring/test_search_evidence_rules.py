"""The passive-evidence rules: which search errors count, the spaced window of failed searches,
and when they (with the failed checks) mark a provider down. Never towards active."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kurobara.monitoring import rules
from kurobara.monitoring.rules import ACTIVE, DOWN, UNKNOWN, SearchFailures, StatusState
from kurobara.providers.base import HealthCheckResult

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
FAIL = HealthCheckResult(ok=False, error="timed out", error_kind="timeout")
OK = HealthCheckResult(ok=True, response_ms=100, http_status=200)


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("kind", "http_status", "counts"),
    [
        ("timeout", None, True),
        ("connect", None, True),
        ("dns", None, True),
        ("tls", None, True),
        ("http_status", 502, True),
        ("http_status", None, True),
        ("http_status", 404, False),
        ("http_status", 403, False),
        ("rate_limited", 429, False),
        ("not_found", None, False),
        ("parse", None, False),
        ("bot_challenge", 403, False),
        ("unexpected", None, False),
        (None, None, False),
    ],
)
def test_is_outage_evidence(kind: str | None, http_status: int | None, counts: bool) -> None:
    assert rules.is_outage_evidence(kind, http_status) is counts


@pytest.mark.parametrize(
    ("before", "seconds", "after"),
    [
        # the first failure opens a window
        (SearchFailures(), 0, SearchFailures(1, at(0), at(0))),
        # a later one in the window counts
        (SearchFailures(1, at(0), at(0)), 5, SearchFailures(2, at(0), at(5))),
        (SearchFailures(2, at(0), at(5)), 60, SearchFailures(3, at(0), at(60))),
        # within the spacing of the last: the same observation (a burst of users)
        (SearchFailures(1, at(0), at(0)), 1.5, SearchFailures(1, at(0), at(0))),
        (SearchFailures(2, at(0), at(5)), 6, SearchFailures(2, at(0), at(5))),
        # exactly the spacing later counts
        (SearchFailures(1, at(0), at(0)), 2, SearchFailures(2, at(0), at(2))),
        # past the window: starts over
        (SearchFailures(2, at(0), at(5)), 61, SearchFailures(1, at(61), at(61))),
        # a cleared window (a check succeeded) starts over
        (SearchFailures(0, None, None), 30, SearchFailures(1, at(30), at(30))),
    ],
)
def test_add_search_failure(before: SearchFailures, seconds: float, after: SearchFailures) -> None:
    assert rules.add_search_failure(before, at(seconds)) == after


@pytest.mark.parametrize(
    ("seen", "seconds", "live"),
    [
        (SearchFailures(), 0, 0),
        (SearchFailures(2, at(0), at(5)), 10, 2),
        (SearchFailures(2, at(0), at(5)), 60, 2),
        (SearchFailures(2, at(0), at(5)), 61, 0),
    ],
)
def test_live_search_failures(seen: SearchFailures, seconds: float, live: int) -> None:
    assert rules.live_search_failures(seen, at(seconds)) == live


@pytest.mark.parametrize(
    ("status", "checks_failed", "searches_failed", "after", "transition"),
    [
        (ACTIVE, 0, 1, ACTIVE, None),
        (ACTIVE, 0, 2, ACTIVE, None),
        # three failed searches in the window: down without waiting for a retry interval
        (ACTIVE, 0, 3, DOWN, (ACTIVE, DOWN)),
        # one failed (early) check and two failed searches: down
        (ACTIVE, 1, 2, DOWN, (ACTIVE, DOWN)),
        (ACTIVE, 2, 1, DOWN, (ACTIVE, DOWN)),
        (UNKNOWN, 0, 3, DOWN, (UNKNOWN, DOWN)),
        (UNKNOWN, 1, 1, UNKNOWN, None),
        # already down: nothing to change, no second transition
        (DOWN, 5, 4, DOWN, None),
    ],
)
def test_apply_search_failure(
    status: str,
    checks_failed: int,
    searches_failed: int,
    after: str,
    transition: tuple[str, str] | None,
) -> None:
    state = StatusState(status=status, consecutive_failures=checks_failed, total_checks=10,
                        successful_checks=7)  # fmt: skip
    seen = SearchFailures(searches_failed, at(0), at(0))
    applied = rules.apply_search_failure(state, seen, at(0))
    assert applied.state.status == after
    assert applied.transition == transition
    # Passive evidence is not a check: counters and uptime are the checks' alone.
    assert applied.state.consecutive_failures == checks_failed
    assert (applied.state.total_checks, applied.state.successful_checks) == (10, 7)


@pytest.mark.parametrize("status", [UNKNOWN, ACTIVE, DOWN])
@pytest.mark.parametrize("searches_failed", [0, 1, 2, 3, 10])
def test_passive_evidence_never_marks_a_provider_active(status: str, searches_failed: int) -> None:
    state = StatusState(status=status, consecutive_failures=0 if status != DOWN else 3)
    applied = rules.apply_search_failure(
        state, SearchFailures(searches_failed, at(0), at(0)), at(0)
    )
    assert applied.state.status == status or applied.state.status == DOWN
    assert applied.transition is None or applied.transition[1] == DOWN


@pytest.mark.parametrize(
    ("status", "checks_failed", "searches", "result", "after"),
    [
        # a failed check with two live failed searches reaches the threshold
        (ACTIVE, 0, 2, FAIL, DOWN),
        (ACTIVE, 1, 1, FAIL, DOWN),
        (ACTIVE, 0, 1, FAIL, ACTIVE),
        (ACTIVE, 0, 0, FAIL, ACTIVE),
        # recovery is a check's word, whatever the searches said
        (DOWN, 0, 5, OK, ACTIVE),
        (ACTIVE, 1, 5, OK, ACTIVE),
    ],
)
def test_apply_result_counts_live_search_failures(
    status: str, checks_failed: int, searches: int, result: HealthCheckResult, after: str
) -> None:
    state = StatusState(status=status, consecutive_failures=checks_failed)
    applied = rules.apply_result(state, result, NOW, search_failures=searches)
    assert applied.state.status == after
