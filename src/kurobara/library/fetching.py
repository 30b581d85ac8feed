"""Fetching the manga an import names but the catalog lacks, from their providers.

The monitor is asked first: a provider it knows to be down (or an admin disabled) is not asked
at all, and its items say "provider down, retry later". The rest are fetched concurrently, at
most ``per_provider`` at a time per provider (the shared ``HttpClient`` spaces the requests to
the provider's rate limit); once a provider times out, refuses connections or answers 5xx, the
import stops asking it, so a hanging site costs one timeout, not one per item. Each fetch has
its own session and holds no connection while the site answers (``manga.service`` commits
around the network call).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from kurobara.db.engine import Database
from kurobara.db.types import utcnow
from kurobara.library.rules import site_unreachable
from kurobara.library.schemas import ExportSource, ImportItem
from kurobara.manga import service as manga_service
from kurobara.monitoring import claims as monitor_claims
from kurobara.monitoring import service as monitoring_service
from kurobara.providers.errors import ProviderError
from kurobara.providers.registry import ProviderRegistry, UnknownProvider

logger = logging.getLogger(__name__)

DOWN = "provider down, retry later"
NO_SOURCE = "not in the catalog and no provider source to import it from"


@dataclass(frozen=True)
class Fetched:
    """What fetching one item gave: the manga it is now in the catalog as, or why not."""

    manga_id: uuid.UUID | None
    error: str | None = None


@dataclass
class _Run:
    db: Database
    registry: ProviderRegistry
    per_provider: int
    # Providers not to ask, with the reason shown per item.
    skipped: dict[str, str] = field(default_factory=dict)
    gates: defaultdict[str, asyncio.Semaphore] = field(init=False)

    def __post_init__(self) -> None:
        self.gates = defaultdict(lambda: asyncio.Semaphore(self.per_provider))


async def fetch_missing(
    *,
    db: Database,
    registry: ProviderRegistry,
    items: Mapping[int, ImportItem],
    per_provider: int,
) -> dict[int, Fetched]:
    """Import each item's manga from the first of its sources that works, concurrently."""
    if not items:
        return {}
    async with db.session() as session:
        skips = await monitoring_service.search_skips(db_session=session)
    run = _Run(db=db, registry=registry, per_provider=per_provider)
    run.skipped = dict.fromkeys(skips, DOWN)
    indexes = list(items)
    outcomes = await asyncio.gather(*(_fetch_item(run, items[index]) for index in indexes))
    return dict(zip(indexes, outcomes, strict=True))


async def _fetch_item(run: _Run, item: ImportItem) -> Fetched:
    if not item.sources:
        return Fetched(None, NO_SOURCE)
    errors = []
    for source in item.sources:
        manga_id, error = await _fetch_source(run, source)
        if manga_id is not None:
            return Fetched(manga_id)
        errors.append(f"{source.provider_id}: {error}")
    return Fetched(None, "; ".join(errors))


async def _fetch_source(run: _Run, source: ExportSource) -> tuple[uuid.UUID | None, str]:
    provider_id = source.provider_id
    if provider_id not in run.registry:
        return None, str(UnknownProvider(provider_id))
    async with run.gates[provider_id]:
        # Checked again once through the gate: a fetch ahead of this one may have just failed.
        if provider_id in run.skipped:
            return None, run.skipped[provider_id]
        try:
            async with run.db.session() as session:
                manga = await manga_service.import_from_provider(
                    db_session=session,
                    registry=run.registry,
                    provider_id=provider_id,
                    external_id=source.external_id,
                )
            return manga.id, ""
        except ProviderError as exc:
            logger.warning(
                "favorites import: provider=%s external_id=%s kind=%s failed: %s",
                provider_id,
                source.external_id,
                exc.kind,
                exc,
            )
            if site_unreachable(exc.kind, exc.status_code) and provider_id not in run.skipped:
                run.skipped[provider_id] = DOWN
                await _tell_monitor(run.db, provider_id)
            return None, str(exc)


async def _tell_monitor(db: Database, provider_id: str) -> None:
    """The site failed an import: have the monitor check it early (coalesced, any replica)."""
    async with db.session() as session:
        await monitor_claims.request_early_check(
            db_session=session, provider_id=provider_id, now=utcnow()
        )
