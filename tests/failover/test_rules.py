"""The pure rules of failover, as tables: title normalisation and match scores, the order in
which linked sources answer, merging chapter lists by number, when a provider is dead enough
to propose migrations, and the banner's words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from kurobara.failover.rules import (
    CandidateFacts,
    SeriesFacts,
    SourceHealth,
    candidate_order,
    dead_reason,
    fallback_message,
    match_score,
    merge_chapters,
    normalize_title,
    rank_sources,
    wanted_source,
)

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("title", "normalized"),
    [
        ("The Crimson Blade", "crimson blade"),
        ("Crimson   Blade!", "crimson blade"),
        ("Crimson Blade (Official)", "crimson blade"),
        ("Pokémon: Adventures", "pokemon adventures"),
        ("A Silent Voice", "silent voice"),
        ("Theatre Kid", "theatre kid"),
        ("[Remastered]", ""),
    ],
)
def test_normalize_title(title: str, normalized: str) -> None:
    assert normalize_title(title) == normalized


@pytest.mark.parametrize(
    ("a", "b", "score"),
    [
        # Same title and year: a sure match.
        (
            SeriesFacts("Lanterns of the Crossing", year=2012),
            SeriesFacts("Lanterns of the Crossing", year=2012),
            100.0,
        ),
        # Case, punctuation and the article do not count.
        (SeriesFacts("The Iron Fox", year=2012), SeriesFacts("iron fox!", year=2012), 100.0),
        # An alt title matches the other's main title.
        (
            SeriesFacts("Kage no Jitsuryokusha", ("The Eminence in Shadow",)),
            SeriesFacts("Eminence in Shadow"),
            90.0,
        ),
        # Year unknown on one side: a little less sure.
        (SeriesFacts("Iron Fox", year=2012), SeriesFacts("Iron Fox"), 90.0),
        # A year apart.
        (SeriesFacts("Iron Fox", year=2012), SeriesFacts("Iron Fox", year=2013), 93.0),
        # Same title, years far apart: a remake or another series of that name.
        (SeriesFacts("Iron Fox", year=1990), SeriesFacts("Iron Fox", year=2012), 55.0),
        # A tracker id both expose decides, over the titles.
        (
            SeriesFacts("Iron Fox", ids={"mangadex": "x1"}),
            SeriesFacts("Tetsu Kitsune", ids={"mangadex": "x1"}),
            100.0,
        ),
        (
            SeriesFacts("Iron Fox", ids={"anilist": "1"}),
            SeriesFacts("Iron Fox", ids={"anilist": "2"}),
            0.0,
        ),
        # Ids of different trackers say nothing.
        (
            SeriesFacts("Iron Fox", year=2012, ids={"mal": "1"}),
            SeriesFacts("Iron Fox", year=2012, ids={"anilist": "2"}),
            100.0,
        ),
        # Unrelated titles.
        (
            SeriesFacts("Iron Fox", year=2012),
            SeriesFacts("Moonlit Garden of Kyoto", year=2012),
            42.4,
        ),
    ],
)
def test_match_score(a: SeriesFacts, b: SeriesFacts, score: float) -> None:
    assert match_score(a, b) == score
    assert match_score(b, a) == score


def _s(source_id: str, status: str | None, *, usable: bool = True, failures: int = 0,
       order: int = 0) -> SourceHealth:  # fmt: skip
    return SourceHealth(source_id, f"p-{source_id}", usable, status, failures, order)


@pytest.mark.parametrize(
    ("sources", "preferred", "order"),
    [
        # The preferred source first when it is usable.
        ([_s("a", "active", order=0), _s("b", "active", order=1)], "b", ["b", "a"]),
        # A preferred source that is down goes behind every usable one.
        ([_s("a", "down", usable=False), _s("b", "active", order=1)], "a", ["b", "a"]),
        # Without a preference: the healthiest first (active, unknown, testing) ...
        (
            [_s("a", "testing"), _s("b", "unknown", order=1), _s("c", "active", order=2)],
            None,
            ["c", "b", "a"],
        ),
        # ... then fewer failed checks, then link order.
        ([_s("a", "active", failures=2), _s("b", "active", failures=0, order=1)], None, ["b", "a"]),
        ([_s("a", "active", order=1), _s("b", "active", order=0)], None, ["b", "a"]),
        # Unusable ones last, in link order.
        (
            [
                _s("a", "down", usable=False, order=1),
                _s("b", None, usable=False, order=0),
                _s("c", "active", order=2),
            ],
            None,
            ["c", "b", "a"],
        ),
    ],
)
def test_rank_sources(sources: list[SourceHealth], preferred: str | None, order: list[str]) -> None:
    assert [s.source_id for s in rank_sources(sources, preferred)] == order


@pytest.mark.parametrize(
    ("chosen", "last_read", "wanted"),
    [("b", "a", "b"), (None, "b", "b"), (None, None, "a"), ("gone", None, "a"), ("gone", "b", "b")],
)
def test_wanted_source(chosen: str | None, last_read: str | None, wanted: str) -> None:
    sources = [_s("b", "active", order=1), _s("a", "down", usable=False, order=0)]
    found = wanted_source(sources, chosen=chosen, last_read=last_read)
    assert found is not None
    assert found.source_id == wanted


@dataclass(frozen=True)
class Ch:
    label: str
    number_value: float | None


def _chapters(spec: str) -> list[Ch]:
    """ "1 2 x 3" -> chapters 1, 2, an extra without a number, 3 (labels carry the source)."""
    source, _, numbers = spec.partition(":")
    return [Ch(f"{source}{n}", None if n == "x" else float(n)) for n in numbers.split()]


@pytest.mark.parametrize(
    ("lists", "merged"),
    [
        # One source: its list as it is.
        (["a:1 2 x 3"], "a1 a2 ax a3"),
        # The answering source's chapters win; the other fills numbers it lacks, by number.
        (["a:1 2 3", "b:1 2 3 4 5"], "a1 a2 a3 b4 b5"),
        (["a:1 3 5", "b:2 4"], "a1 b2 a3 b4 a5"),
        # Half chapters land between their neighbours.
        (["a:1 2 3", "b:2.5"], "a1 a2 b2.5 a3"),
        # Extras come from the answering source only.
        (["a:1 2", "b:x 3"], "a1 a2 b3"),
        # Three sources: the second's copy of a number beats the third's.
        (["a:1", "b:2", "c:2 3"], "a1 b2 c3"),
        # Nothing stored on the answering source: the others' lists.
        (["a:", "b:1 2"], "b1 b2"),
        ([], ""),
    ],
)
def test_merge_chapters(lists: list[str], merged: str) -> None:
    result = merge_chapters([_chapters(spec) for spec in lists])
    assert " ".join(c.label.replace(".0", "") for c in result) == merged


@pytest.mark.parametrize(
    ("registered", "enabled", "status", "down_for", "reason"),
    [
        (True, True, "active", None, None),
        (True, True, "down", timedelta(hours=47), None),
        (True, True, "down", timedelta(hours=49), "down"),
        (True, True, "down", None, None),  # down, but since when is not known: wait
        (True, False, "active", None, "disabled"),
        (False, True, "active", None, "removed"),
        (False, False, "down", timedelta(hours=49), "removed"),
    ],
)
def test_dead_reason(
    registered: bool, enabled: bool, status: str, down_for: timedelta | None, reason: str | None
) -> None:
    since = NOW - down_for if down_for is not None else None
    found = dead_reason(
        registered=registered,
        enabled=enabled,
        status=status,
        down_since=since,
        now=NOW,
        after_hours=48,
    )
    assert found == reason


def test_candidates_rank_by_score_then_chapters_then_latest() -> None:
    candidates = {
        "weak": CandidateFacts(score=60, chapter_count=90, latest_number=90),
        "short": CandidateFacts(score=100, chapter_count=10, latest_number=10),
        "long": CandidateFacts(score=100, chapter_count=20, latest_number=20),
        "long-later": CandidateFacts(score=100, chapter_count=20, latest_number=21.5),
    }
    ranked = sorted(candidates, key=lambda name: candidate_order(candidates[name]))
    assert ranked == ["long-later", "long", "short", "weak"]


@pytest.mark.parametrize(
    ("reason", "since", "message"),
    [
        (
            "down",
            NOW.replace(hour=14, minute=2),
            "reading from MangaRead: MangaDex is down since 14:02",
        ),
        (
            "down",
            NOW - timedelta(days=1, minutes=58),
            "reading from MangaRead: MangaDex is down since 1 Dec 14:02",
        ),
        ("down", None, "reading from MangaRead: MangaDex is down"),
        ("disabled", None, "reading from MangaRead: MangaDex is switched off"),
        ("failed", NOW, "reading from MangaRead: MangaDex failed"),
    ],
)
def test_fallback_message(reason: str, since: datetime | None, message: str) -> None:
    words = fallback_message(
        reading_name="MangaRead", wanted_name="MangaDex", reason=reason, since=since, now=NOW
    )
    assert words == message
