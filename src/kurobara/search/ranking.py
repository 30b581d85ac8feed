"""Ranking and de-duplication of merged search results, pure: how well a title matches the
query first, then how healthy and fast its provider is; the same series found on several
providers is shown once, with the others listed beside it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kurobara.providers.base import SearchResult

_NOT_WORD = re.compile(r"[\W_]+")

# Match quality, best first.
EXACT, PREFIX, ALL_WORDS, SUBSTRING, OTHER = 0, 1, 2, 3, 4


def normalize(title: str) -> str:
    """Case, accents, punctuation and spacing do not make two titles different."""
    folded = unicodedata.normalize("NFKD", title.casefold())
    bare = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", bare).strip()


def match_quality(query: str, title: str) -> int:
    q, t = normalize(query), normalize(title)
    if not q:
        return OTHER
    if t == q:
        return EXACT
    if t.startswith(q):
        return PREFIX
    words = set(t.split())
    if all(word in words for word in q.split()):
        return ALL_WORDS
    if q in t:
        return SUBSTRING
    return OTHER


@dataclass(frozen=True)
class ProviderStanding:
    """How a provider fared: healthy ones (``active``) before the rest, then the faster."""

    healthy: bool
    ms: int


@dataclass
class Ranked:
    result: SearchResult
    also_on: list[SearchResult] = field(default_factory=list)


def rank(
    query: str,
    results: Iterable[SearchResult],
    standings: Mapping[str, ProviderStanding],
) -> list[Ranked]:
    """Best first (match quality, then healthy providers, then each provider's own rank, then
    the faster provider), one entry per series (same normalized title)."""

    # Within one match quality, each provider's own order is kept and interleaved (its best
    # first), so a slower provider's best matches are not pushed past the first page.
    positions: dict[str, int] = {}
    entries = []
    for index, result in enumerate(results):
        place = positions.get(result.provider_id, 0)
        positions[result.provider_id] = place + 1
        standing = standings.get(result.provider_id, ProviderStanding(healthy=False, ms=0))
        quality = match_quality(query, result.title)
        entries.append(((quality, not standing.healthy, place, standing.ms, index), result))

    merged: dict[str, Ranked] = {}
    for _, result in sorted(entries, key=lambda entry: entry[0]):
        series = normalize(result.title) or f"{result.provider_id}:{result.external_id}"
        if series in merged:
            merged[series].also_on.append(result)
        else:
            merged[series] = Ranked(result=result)
    return list(merged.values())
