"""The pure rules of search: learned deadlines and the sentence that says what happened."""

from __future__ import annotations

import pytest

from kurobara.search.deadlines import (
    ProviderEvidence,
    SearchLatencies,
    deadline_seconds,
    learned_deadlines,
    quantile,
)
from kurobara.search.schemas import SearchOutcome
from kurobara.search.service import summary_message


@pytest.mark.parametrize(
    ("p95_ms", "failing", "expected"),
    [
        (None, False, 15.0),  # nothing known, nothing wrong: the whole timeout
        (None, True, 2.0),  # nothing known but failing: only the floor
        (100, False, 2.0),  # fast: 0.3 s is below the floor
        (1000, False, 3.0),  # p95 x 3
        (1000, True, 3.0),  # a known latency decides, failing or not
        (9000, False, 15.0),  # capped by the timeout
    ],
)
def test_deadline_is_p95_times_factor_between_floor_and_cap(
    p95_ms: int | None, failing: bool, expected: float
) -> None:
    got = deadline_seconds(p95_ms=p95_ms, failing=failing, factor=3.0, floor=2.0, cap=15.0)
    assert got == pytest.approx(expected)


def test_floor_never_exceeds_the_cap() -> None:
    assert deadline_seconds(p95_ms=None, failing=True, factor=3, floor=5, cap=1) == 1


def test_quantile_is_nearest_rank() -> None:
    assert quantile([], 0.95) is None
    assert quantile(range(1, 101), 0.95) == 95
    assert quantile([7], 0.95) == 7


def test_learned_deadlines_take_the_slower_p95_and_any_failure() -> None:
    latencies = SearchLatencies()
    for ms in (100, 100, 2000):
        latencies.answered("searched-slow", ms)
    latencies.missed("missed")
    evidence = {
        "checked-fast": ProviderEvidence(p95_ms=100),
        "searched-slow": ProviderEvidence(p95_ms=100),
        "down": ProviderEvidence(failing=True),
    }
    got = learned_deadlines(
        ["checked-fast", "searched-slow", "down", "missed", "new"],
        evidence=evidence,
        latencies=latencies,
        factor=3.0,
        floor=1.0,
        cap=15.0,
    )
    assert got == {"checked-fast": 1.0, "searched-slow": 6.0, "down": 1.0, "missed": 1.0,
                   "new": 15.0}  # fmt: skip
    latencies.answered("missed", 50)
    assert not latencies.has_missed("missed")


def outcome(name: str, status: str, **fields: object) -> SearchOutcome:
    return SearchOutcome(provider_id=name.lower(), name=name, status=status, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("outcomes", "found", "message"),
    [
        ([outcome("A", "ok", count=0), outcome("B", "ok", count=0)], 0,
         "Nothing found for “q”."),
        ([outcome("A", "ok", count=2)], 2, "2 results for “q” from 1 provider."),
        ([outcome("MangaDex", "error", kind="timeout"), outcome("B", "ok", count=0)], 0,
         "1 of 2 providers failed: MangaDex timed out."),
        ([outcome("A", "error", kind="connect"), outcome("B", "slow", kind="timeout", ms=500),
          outcome("C", "error", kind="http_status", http_status=503),
          outcome("D", "ok", count=1)], 1,
         "3 of 4 providers failed: A refused the connection, B is slow (no answer within 500 ms),"
         " C answered with an HTTP error 503. 1 result from the others."),
        ([outcome("A", "error", kind="parse")], 0,
         "1 of 1 provider failed: A answered something unreadable."),
        ([outcome("A", "ok", count=0), outcome("B", "skipped", reason="down")], 0,
         "Nothing found for “q”. Not asked: B (down)."),
        ([outcome("B", "skipped", reason="down")], 0,
         "No provider was asked. Not asked: B (down)."),
    ],
    ids=["nothing", "found", "one-failed", "mixed", "all-failed", "skipped", "only-skipped"],
)  # fmt: skip
def test_the_summary_never_says_nothing_found_for_a_failure(
    outcomes: list[SearchOutcome], found: int, message: str
) -> None:
    assert summary_message("q", outcomes, found) == message
