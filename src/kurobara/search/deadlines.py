"""Learned search deadlines: how long a search waits on each provider, from what that provider
has shown — the monitor's hourly rollups and the searches themselves.

``deadline_seconds`` is the pure rule; ``SearchLatencies`` keeps the latest search latencies and
misses of this process in memory (a restart relearns them from the rollups within one search).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Latencies kept per provider; enough for a stable p95, small enough to follow a change soon.
KEPT_LATENCIES = 50


def quantile(values: Iterable[int], q: float) -> int | None:
    """The nearest-rank q-quantile of raw latencies (ms); None when there are none."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def deadline_seconds(
    *, p95_ms: int | None, failing: bool, factor: float, floor: float, cap: float
) -> float:
    """How long one search waits on one provider.

    Its p95 times ``factor``, at least ``floor`` and at most ``cap`` (``KUROBARA_SEARCH_TIMEOUT``).
    A provider with no latency on record waits the full ``cap`` while it has given no reason to
    doubt it, and only ``floor`` while it is failing (its checks or its last search failed): a
    dead site then costs one floor, not the whole timeout, even before the monitor calls it down.
    """
    floor = min(floor, cap)
    if p95_ms is None:
        return floor if failing else cap
    return max(floor, min(cap, p95_ms / 1000 * factor))


@dataclass(frozen=True)
class ProviderEvidence:
    """What the monitor knows of a provider, as deadlines and ranking use it."""

    p95_ms: int | None = None
    status: str = "unknown"
    failing: bool = False


class SearchLatencies:
    """Search-side evidence of this process: each provider's recent latencies, and whether its
    latest search failed or missed its deadline."""

    def __init__(self, kept: int = KEPT_LATENCIES) -> None:
        self._kept = kept
        self._latencies: dict[str, deque[int]] = {}
        self._missed: set[str] = set()

    def answered(self, provider_id: str, ms: int) -> None:
        self._latencies.setdefault(provider_id, deque(maxlen=self._kept)).append(ms)
        self._missed.discard(provider_id)

    def missed(self, provider_id: str) -> None:
        self._missed.add(provider_id)

    def p95(self, provider_id: str) -> int | None:
        return quantile(self._latencies.get(provider_id, ()), 0.95)

    def has_missed(self, provider_id: str) -> bool:
        return provider_id in self._missed


def learned_deadlines(
    provider_ids: Iterable[str],
    *,
    evidence: Mapping[str, ProviderEvidence],
    latencies: SearchLatencies,
    factor: float,
    floor: float,
    cap: float,
) -> dict[str, float]:
    """Each provider's deadline. The slower of the two p95s (checks, searches) counts, so that
    neither a fast health check nor a lucky search makes the deadline too tight."""
    deadlines: dict[str, float] = {}
    for provider_id in provider_ids:
        seen = evidence.get(provider_id, ProviderEvidence())
        p95s = [p for p in (seen.p95_ms, latencies.p95(provider_id)) if p is not None]
        deadlines[provider_id] = deadline_seconds(
            p95_ms=max(p95s) if p95s else None,
            failing=seen.failing or latencies.has_missed(provider_id),
            factor=factor,
            floor=floor,
            cap=cap,
        )
    return deadlines
