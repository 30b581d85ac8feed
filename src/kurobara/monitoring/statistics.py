"""``GET /providers/statistics`` and the dashboard's summary: counts, averages, extremes.

One definition of each number: ``average_uptime`` is the mean of the providers' all-time
``uptime_percentage`` (the seed's counter), ``average_uptime_24h`` the mean of their 24 h
uptime from the rollups; the Providers page's banner and tiles both read these two."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.config import Settings
from kurobara.monitoring import rules
from kurobara.monitoring.models import ProviderCheck
from kurobara.monitoring.views import ProviderView, list_providers
from kurobara.providers.registry import ProviderRegistry


@dataclass(frozen=True)
class ProviderSpeed:
    provider_id: str
    provider_name: str
    response_time: int


@dataclass(frozen=True)
class Statistics:
    total: int
    by_status: dict[str, int]
    enabled: int
    disabled: int
    healthy: int
    average_uptime: float | None
    average_uptime_24h: float | None
    fastest: ProviderSpeed | None
    slowest: ProviderSpeed | None
    checks_last_24h: int
    failed_checks_last_24h: int
    generated_at: datetime


async def statistics(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    settings: Settings,
    now: datetime,
    views: Sequence[ProviderView] | None = None,
) -> Statistics:
    """Over ``views`` when the caller has read them already (the dashboard), else all."""
    if views is None:
        views = await list_providers(
            db_session=db_session, registry=registry, settings=settings, now=now
        )
    by_status = dict.fromkeys(rules.STATUSES, 0)
    for view in views:
        by_status[view.status] += 1
    checked = [v for v in views if v.total_checks > 0]
    day = [v.uptime_24h for v in views if v.uptime_24h is not None]
    timed = sorted(
        (v for v in views if v.status == rules.ACTIVE and v.response_time is not None),
        key=lambda v: v.response_time or 0,
    )
    since = now - timedelta(hours=24)
    recent = (
        await db_session.execute(
            select(func.count(), func.count().filter(ProviderCheck.ok.is_(False))).where(
                ProviderCheck.checked_at >= since,
                ProviderCheck.provider_id.in_([v.provider_id for v in views]),
            )
        )
    ).one()
    return Statistics(
        total=len(views),
        by_status=by_status,
        enabled=sum(v.is_enabled for v in views),
        disabled=sum(not v.is_enabled for v in views),
        healthy=sum(v.is_healthy for v in views),
        average_uptime=_mean([v.uptime_percentage for v in checked]),
        average_uptime_24h=_mean(day),
        fastest=_speed(timed[0]) if timed else None,
        slowest=_speed(timed[-1]) if timed else None,
        checks_last_24h=int(recent[0]),
        failed_checks_last_24h=int(recent[1]),
        generated_at=now,
    )


def _mean(values: list[float] | list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _speed(view: ProviderView) -> ProviderSpeed:
    return ProviderSpeed(
        provider_id=view.provider_id,
        provider_name=view.provider_name,
        response_time=view.response_time or 0,
    )
