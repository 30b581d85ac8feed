"""Pure rules of one series across several sources: how well two listings match (a score out
of 100), which linked source answers (preferred, else the healthiest), how the sources' chapter
lists merge by chapter number, when a provider is dead enough to propose a migration, and the
banner's words. No I/O; time is an argument."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from typing import Generic, Protocol, TypeVar

# Ids a provider may expose for a series on the big trackers: one equal is the same series,
# one that differs is another series, whatever the titles say.
TRACKER_IDS: tuple[str, ...] = ("mangadex", "anilist", "mal")
MAX_SCORE = 100.0
TITLE_WEIGHT = 85.0
YEAR_SAME = 15.0
YEAR_CLOSE = 8.0  # one year apart: sites disagree on first publication vs first scan
YEAR_UNKNOWN = 5.0
YEAR_FAR = -30.0
# Below this a listing is not offered as a match at all.
MIN_MATCH_SCORE = 50.0

# Why a provider needs its series migrated away from.
REMOVED = "removed"
DISABLED = "disabled"
DOWN = "down"

_BRACKETS = re.compile(r"[\(\[\{][^\)\]\}]*[\)\]\}]")
_NON_WORD = re.compile(r"[^\w]+")
_LEADING_ARTICLE = re.compile(r"^(the|a|an) ")


def normalize_title(title: str) -> str:
    """A title as matching compares it: accents and case folded, bracketed notes ("(Official)",
    "[Remastered]") and punctuation dropped, a leading English article dropped, one space."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _BRACKETS.sub(" ", text)
    text = _NON_WORD.sub(" ", text).replace("_", " ")
    text = " ".join(text.split())
    return _LEADING_ARTICLE.sub("", text)


@dataclass(frozen=True)
class SeriesFacts:
    """What matching knows of one listing of a series."""

    title: str
    alt_titles: Sequence[str] = ()
    year: int | None = None
    # "mangadex" / "anilist" / "mal" -> the id there, where the provider exposes it.
    ids: Mapping[str, str] = field(default_factory=dict)


def title_similarity(a: SeriesFacts, b: SeriesFacts) -> float:
    """The best similarity (0..1) between any title of ``a`` and any title of ``b``."""
    left = {normalize_title(t) for t in (a.title, *a.alt_titles)} - {""}
    right = {normalize_title(t) for t in (b.title, *b.alt_titles)} - {""}
    if not left or not right:
        return 0.0
    if left & right:
        return 1.0
    # SequenceMatcher is not symmetric: either way round, so a.b == b.a.
    return max(
        max(SequenceMatcher(None, x, y).ratio(), SequenceMatcher(None, y, x).ratio())
        for x in left
        for y in right
    )


def _year_points(a: int | None, b: int | None) -> float:
    if a is None or b is None:
        return YEAR_UNKNOWN
    gap = abs(a - b)
    return YEAR_SAME if gap == 0 else YEAR_CLOSE if gap == 1 else YEAR_FAR


def match_score(a: SeriesFacts, b: SeriesFacts) -> float:
    """How surely two listings are the same series, 0..100 (one decimal). A tracker id both
    expose decides alone: equal is 100, different is 0. Otherwise the title similarity weighs
    85 and the year 15 (unknown 5, one year apart 8, further apart takes 30 off)."""
    for tracker in TRACKER_IDS:
        left, right = a.ids.get(tracker), b.ids.get(tracker)
        if left and right:
            return MAX_SCORE if left.strip() == right.strip() else 0.0
    score = title_similarity(a, b) * TITLE_WEIGHT + _year_points(a.year, b.year)
    return round(min(MAX_SCORE, max(0.0, score)), 1)


# -- which source answers ----------------------------------------------------------------------

# Healthiest first: a provider known to answer, then one not checked yet, then one being checked.
_STATUS_ORDER: dict[str | None, int] = {"active": 0, "unknown": 1, None: 1, "testing": 2}


K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class SourceHealth(Generic[K]):
    """One linked source as the choice of the answering source sees it. ``usable``: its
    provider may be asked now (registered, enabled, not down); ``order``: link order."""

    source_id: K
    provider_id: str
    usable: bool
    status: str | None
    failures: int = 0
    order: int = 0


def rank_sources(sources: Sequence[SourceHealth[K]], preferred: K | None) -> list[SourceHealth[K]]:
    """The order in which sources are tried: the preferred one first when it is usable, then
    the usable ones healthiest first (status, then fewer failed checks, then link order), then
    the unusable ones in link order (their stored lists still answer when nothing else can)."""

    def key(s: SourceHealth[K]) -> tuple[int, int, int, int, int]:
        first = 0 if s.usable and s.source_id == preferred else 1
        status = _STATUS_ORDER.get(s.status, 3)
        return (first, 0 if s.usable else 1, status if s.usable else 0, s.failures, s.order)

    return sorted(sources, key=key)


def wanted_source(
    sources: Sequence[SourceHealth[K]], *, chosen: K | None, last_read: K | None
) -> SourceHealth[K] | None:
    """The source the reader means, healthy or not: the one they chose, else the one they last
    read from, else the first linked. The answering source differs from it only in a fallback."""
    by_id = {s.source_id: s for s in sources}
    for candidate in (chosen, last_read):
        if candidate is not None and candidate in by_id:
            return by_id[candidate]
    return min(sources, key=lambda s: s.order) if sources else None


# -- merged chapter lists ----------------------------------------------------------------------


class NumberedChapter(Protocol):
    @property
    def number_value(self) -> float | None: ...


C = TypeVar("C", bound=NumberedChapter)


def merge_chapters(lists: Sequence[Sequence[C]]) -> list[C]:
    """One chapter list from several sources' lists, the answering source's first: its list in
    its own order, completed by the chapters of the other lists (in rank order) whose number it
    lacks, each placed before the first chapter with a higher number. Chapters without a number
    (extras) come only from the answering source; one number is listed once."""
    if not lists:
        return []
    merged = list(lists[0])
    seen = {c.number_value for c in merged if c.number_value is not None}
    for other in lists[1:]:
        for chapter in other:
            number = chapter.number_value
            if number is None or number in seen:
                continue
            seen.add(number)
            at = next(
                (
                    i
                    for i, c in enumerate(merged)
                    if c.number_value is not None and c.number_value > number
                ),
                len(merged),
            )
            merged.insert(at, chapter)
    return merged


# -- migration proposals -----------------------------------------------------------------------


def dead_reason(
    *,
    registered: bool,
    enabled: bool,
    status: str | None,
    down_since: datetime | None,
    now: datetime,
    after_hours: float,
) -> str | None:
    """Why the series of a provider need another source, or None while they do not: it was
    removed from the configuration, an admin switched it off, or it has been ``down`` for
    longer than ``after_hours`` (``KUROBARA_MIGRATION_AFTER_HOURS``)."""
    if not registered:
        return REMOVED
    if not enabled:
        return DISABLED
    long_down = down_since is not None and now - down_since > timedelta(hours=after_hours)
    if status == DOWN and long_down:
        return DOWN
    return None


@dataclass(frozen=True)
class CandidateFacts:
    score: float
    chapter_count: int
    latest_number: float | None


def candidate_order(candidate: CandidateFacts) -> tuple[float, int, float]:
    """Sort key of migration candidates, best first: the match score, then more chapters, then
    the higher latest chapter."""
    latest = candidate.latest_number if candidate.latest_number is not None else -1.0
    return (-candidate.score, -candidate.chapter_count, -latest)


# -- words -------------------------------------------------------------------------------------


def _since(moment: datetime, now: datetime) -> str:
    """ "14:02" today (UTC), "2 Dec 14:02" on another day."""
    if moment.date() == now.date():
        return moment.strftime("%H:%M")
    return f"{moment.day} {moment.strftime('%b %H:%M')}"


def fallback_message(
    *,
    reading_name: str,
    wanted_name: str,
    reason: str | None,
    since: datetime | None,
    now: datetime,
) -> str:
    """The banner over a list or a chapter answered by another source than the wanted one:
    "reading from MangaRead: MangaDex is down since 14:02" (times in UTC)."""
    state = {
        DOWN: "is down",
        DISABLED: "is switched off",
        "unregistered": "is no longer configured",
        "failed": "failed",
    }.get(reason or "", "is unavailable")
    when = f" since {_since(since, now)}" if since is not None and reason == DOWN else ""
    return f"reading from {reading_name}: {wanted_name} {state}{when}"
