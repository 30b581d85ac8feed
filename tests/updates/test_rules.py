"""The pure rules of library updates, as tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kurobara.updates import rules

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "skip", "expected"),
    [
        ("completed", True, "completed"),
        ("Completed", True, "completed"),
        ("completed", False, None),
        ("ongoing", True, None),
        (None, True, None),
    ],
)
def test_series_skip(status: str | None, skip: bool, expected: str | None) -> None:
    assert rules.series_skip(manga_status=status, skip_completed=skip) == expected


@pytest.mark.parametrize(
    ("reading", "ours"),
    [
        ("down", "provider_down"),
        ("disabled", "provider_disabled"),
        ("unregistered", "provider_unavailable"),
    ],
)
def test_skip_reasons_in_our_words(reading: str, ours: str) -> None:
    assert rules.skip_reason(reading) == ours


@pytest.mark.parametrize(
    ("last", "hours", "expected"),
    [(None, 12, NOW), (NOW - timedelta(hours=2), 12, NOW + timedelta(hours=10))],
)
def test_next_scheduled(last: datetime | None, hours: int, expected: datetime) -> None:
    assert rules.next_scheduled(last=last, hours=hours, now=NOW) == expected


@pytest.mark.parametrize(("retry_after", "seconds"), [(None, 60), (0, 60), (30, 30), (86400, 3600)])
def test_pause_until(retry_after: float | None, seconds: float) -> None:
    assert rules.pause_until(NOW, retry_after) == NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize(("attempts", "minutes"), [(1, 1), (2, 2), (3, 4), (6, 32), (20, 360)])
def test_retry_delay_doubles_up_to_six_hours(attempts: int, minutes: int) -> None:
    assert rules.retry_delay(attempts) == timedelta(minutes=minutes)


def test_message_groups_chapters_by_manga_and_caps_each_list() -> None:
    chapters = [rules.NewChapter("Blade", str(n), None) for n in range(1, 8)]
    chapters.append(rules.NewChapter("Rose", "3", "Thorns"))

    title, body = rules.message(chapters)

    assert title == "Kurobara: 8 new chapters in 2 series"
    assert body.splitlines() == [
        "Blade:", "  - Ch. 1", "  - Ch. 2", "  - Ch. 3", "  - Ch. 4", "  - Ch. 5",
        "  - and 2 more", "Rose:", "  - Ch. 3: Thorns",
    ]  # fmt: skip


def test_a_single_series_message_names_it() -> None:
    title, _ = rules.message([rules.NewChapter("Rose", None, "Extra")])
    assert title == "Kurobara: 1 new chapter of Rose"
