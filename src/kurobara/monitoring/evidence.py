"""What search reads of the monitor to set its deadlines and rank its results: per provider, the
p95 response time of recent checks (from the hourly rollups) and whether it is failing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.monitoring import rules
from kurobara.monitoring.models import ProviderCheckHourly
from kurobara.monitoring.models import ProviderStatus as PS

# How far back the rollups count for a search deadline: recent enough to follow a site that
# became slow today, long enough to hold more than a handful of checks.
EVIDENCE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class MonitorEvidence:
    provider_id: str
    status: str
    consecutive_failures: int
    p95_ms: int | None


async def search_evidence(
    *, db_session: AsyncSession, now: datetime, provider_ids: Sequence[str]
) -> dict[str, MonitorEvidence]:
    """Two queries, whatever the number of providers: their rows and their recent rollups."""
    if not provider_ids:
        return {}
    wanted = list(provider_ids)
    rows = (
        await db_session.execute(
            select(PS.provider_id, PS.status, PS.consecutive_failures).where(
                PS.provider_id.in_(wanted)
            )
        )
    ).all()
    rollups = (
        await db_session.scalars(
            select(ProviderCheckHourly).where(
                ProviderCheckHourly.provider_id.in_(wanted),
                ProviderCheckHourly.hour >= rules.hour_floor(now - EVIDENCE_WINDOW),
            )
        )
    ).all()
    grouped: dict[str, list[ProviderCheckHourly]] = {}
    for rollup in rollups:
        grouped.setdefault(rollup.provider_id, []).append(rollup)
    return {
        row.provider_id: MonitorEvidence(
            provider_id=row.provider_id,
            status=row.status,
            consecutive_failures=row.consecutive_failures,
            p95_ms=rules.percentile(rules.merge_buckets(grouped.get(row.provider_id, [])), 0.95),
        )
        for row in rows
    }
