"""Before a search asks anyone: which providers it skips, how long it waits on each, and which
are healthy (for ranking) — read from the monitor in a few queries, in the request's session."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.monitoring import rules
from kurobara.monitoring.evidence import search_evidence
from kurobara.monitoring.views import search_skips
from kurobara.providers.registry import ProviderRegistry
from kurobara.search.deadlines import ProviderEvidence, SearchLatencies, learned_deadlines
from kurobara.search.preferences import DEFAULTS, Preferences
from kurobara.search.service import select_providers


@dataclass(frozen=True)
class SearchPlan:
    registry: ProviderRegistry
    provider_ids: list[str]
    skip: Mapping[str, str]
    deadlines: Mapping[str, float]
    healthy: frozenset[str]
    latencies: SearchLatencies
    show_nsfw: bool = False


def search_latencies(state: Any) -> SearchLatencies:
    """This process's search-side latencies, kept on the app's state."""
    latencies: SearchLatencies | None = getattr(state, "search_latencies", None)
    if latencies is None:
        latencies = state.search_latencies = SearchLatencies()
    return latencies


async def plan_search(
    state: Any,
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    provider_ids: Sequence[str],
    include_down: bool,
    now: datetime,
    preferences: Preferences = DEFAULTS,
) -> SearchPlan:
    """Raises ``UnknownProviders`` for ids that are not registered. Providers the user's
    preferences leave out are not asked: silently when the search names none (the user never
    sees them), as ``skipped`` with the reason when it names them."""
    providers = select_providers(registry, provider_ids)
    left_out = {p.id: reason for p in providers if (reason := preferences.left_out(p)) is not None}
    if not provider_ids and len(left_out) < len(providers):
        providers = [p for p in providers if p.id not in left_out]
        left_out = {}
    ids = [provider.id for provider in providers]
    settings = state.settings
    skip = {
        **await search_skips(db_session=db_session, include_down=include_down),
        **left_out,
    }
    seen = await search_evidence(db_session=db_session, now=now, provider_ids=ids)
    latencies = search_latencies(state)
    evidence = {
        pid: ProviderEvidence(
            p95_ms=row.p95_ms,
            status=row.status,
            failing=row.consecutive_failures > 0 or row.status == rules.DOWN,
        )
        for pid, row in seen.items()
    }
    return SearchPlan(
        registry=registry,
        provider_ids=ids,
        skip=skip,
        deadlines=learned_deadlines(
            ids,
            evidence=evidence,
            latencies=latencies,
            factor=settings.search_deadline_factor,
            floor=settings.search_deadline_floor,
            cap=settings.search_timeout,
        ),
        healthy=frozenset(pid for pid, row in seen.items() if row.status == rules.ACTIVE),
        latencies=latencies,
        show_nsfw=preferences.show_nsfw,
    )
