"""Provider rows kept in step with the registry at start-up.

Replicas may run different registries for a while (a rolling deploy that adds or removes a
provider). A sync therefore only adds and refreshes rows; it never marks another replica's
provider as gone. What a replica does not have, it neither shows nor claims (``views`` and
``claims`` filter by the replica's own registry), so a provider removed from every replica's
configuration simply rests, with its history, until one brings it back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.config import Settings
from kurobara.monitoring import history
from kurobara.monitoring.models import ProviderStatus as PS
from kurobara.providers.registry import ProviderRegistry

logger = logging.getLogger("kurobara.monitoring")


@dataclass(frozen=True)
class SyncReport:
    added: int
    updated: int


async def sync_registry(
    *, db_session: AsyncSession, registry: ProviderRegistry, settings: Settings
) -> SyncReport:
    """Add rows for new providers and refresh names and URLs. Safe to race: a row another
    replica inserted first is skipped by ``ON CONFLICT DO NOTHING``."""
    rows = {row.provider_id: row for row in (await db_session.scalars(select(PS))).all()}
    added = updated = 0
    for provider in registry:
        name, url = provider.name[:100], provider.url[:255]
        row = rows.get(provider.id)
        if row is None:
            stmt = history.dialect_insert(db_session, PS).values(
                provider_id=provider.id,
                provider_name=name,
                provider_url=url,
                is_enabled=provider.definition.enabled,
                check_interval=provider.definition.check_interval,
                max_consecutive_failures=settings.max_consecutive_failures,
            )
            await db_session.execute(stmt.on_conflict_do_nothing(index_elements=["provider_id"]))
            added += 1
        elif (row.provider_name, row.provider_url, row.is_registered) != (name, url, True):
            row.provider_name, row.provider_url, row.is_registered = name, url, True
            updated += 1
    await db_session.commit()
    if added or updated:
        logger.info("providers synced added=%d updated=%d", added, updated)
    return SyncReport(added=added, updated=updated)


async def set_catalog_row(
    *,
    db_session: AsyncSession,
    provider_id: str,
    name: str,
    url: str,
    enabled: bool,
    max_consecutive_failures: int,
    now: datetime,
) -> None:
    """The monitor's row of a catalog entry an admin enabled or disabled, in the caller's
    transaction. Enabling makes it due at once; a row from an earlier enabling keeps its
    history and counters."""
    stmt = history.dialect_insert(db_session, PS).values(
        provider_id=provider_id,
        provider_name=name[:100],
        provider_url=url[:255],
        is_enabled=enabled,
        max_consecutive_failures=max_consecutive_failures,
        next_check_at=now if enabled else None,
    )
    changes: dict[str, object] = {"is_enabled": enabled, "is_registered": True}
    if enabled:
        changes |= {"provider_name": name[:100], "provider_url": url[:255], "next_check_at": now}
    await db_session.execute(
        stmt.on_conflict_do_update(index_elements=["provider_id"], set_=changes)
    )
