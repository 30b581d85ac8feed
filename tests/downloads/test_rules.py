"""The pure rules of downloads, table-tested."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kurobara.downloads import rules

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempts", "max_attempts", "state", "delay"),
    [
        (0, 3, "queued", 30),
        (1, 3, "queued", 120),
        (2, 3, "failed", 0),
        (0, 1, "failed", 0),
        (4, 10, "queued", 600),  # the last delay repeats
        (9, 10, "failed", 0),
    ],
)
def test_after_failure(attempts: int, max_attempts: int, state: str, delay: int) -> None:
    after = rules.after_failure(
        attempts=attempts, max_attempts=max_attempts, kind="http_status", message="500", now=NOW
    )
    assert (after.state, after.attempts) == (state, attempts + 1)
    assert after.next_attempt_at == NOW + timedelta(seconds=delay)
    assert after.reason == "http_status: 500"


def test_a_long_failure_message_is_cut_to_what_the_column_holds() -> None:
    long = "x" * 900
    after = rules.after_failure(attempts=0, max_attempts=3, kind="parse", message=long, now=NOW)
    assert len(after.reason) == rules.REASON_LIMIT


@pytest.mark.parametrize(
    ("skip", "reason"),
    [
        ("down", "provider down"),
        ("disabled", "provider disabled"),
        ("unregistered", "provider not configured"),
    ],
)
def test_wait_reason(skip: str, reason: str) -> None:
    assert rules.wait_reason(skip) == reason


@pytest.mark.parametrize(
    ("done", "count", "state", "share"),
    [
        (0, None, "queued", 0.0),
        (3, 12, "running", 0.25),
        (12, 12, "running", 1.0),
        (0, None, "done", 1.0),
        (5, 4, "running", 1.0),
        (0, 0, "failed", 0.0),
    ],
)
def test_progress(done: int, count: int | None, state: str, share: float) -> None:
    assert rules.progress(done, count, state) == share
