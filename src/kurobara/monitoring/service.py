"""Monitoring service: provider rows kept in step with the registry, what the endpoints show
(status views, statistics, history), admin settings, a user's interval preference, and what
search must skip. The scheduler's claim/record side lives in ``claims.py``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from kurobara.config import Settings
from kurobara.monitoring import claims, history, rules
from kurobara.monitoring.models import ProviderCheck, ProviderStatus
from kurobara.providers.registry import ProviderRegistry
from kurobara.users import service as user_service
from kurobara.users.models import User

logger = logging.getLogger("kurobara.monitoring")
PS = ProviderStatus


class ProviderNotFound(LookupError):
    def __init__(self, provider_id: str) -> None:
        super().__init__(provider_id)
        self.provider_id = provider_id

    def __str__(self) -> str:
        return f"unknown provider {self.provider_id!r}"


@dataclass(frozen=True)
class SyncReport:
    added: int
    updated: int
    unregistered: int


async def sync_registry(
    *, db_session: AsyncSession, registry: ProviderRegistry, settings: Settings
) -> SyncReport:
    """Add rows for new providers, refresh names and URLs, mark rows of providers no longer
    registered (kept, with their history, in case they come back). Safe to race: a row another
    replica inserted first is skipped by ``ON CONFLICT DO NOTHING``."""
    rows = {row.provider_id: row for row in (await db_session.scalars(select(PS))).all()}
    added = updated = 0
    for provider in registry:
        row = rows.get(provider.id)
        if row is None:
            stmt = history.dialect_insert(db_session, PS).values(
                provider_id=provider.id,
                provider_name=provider.name[:100],
                provider_url=provider.url[:255],
                is_enabled=provider.definition.enabled,
                check_interval=provider.definition.check_interval,
                max_consecutive_failures=settings.max_consecutive_failures,
            )
            await db_session.execute(stmt.on_conflict_do_nothing(index_elements=["provider_id"]))
            added += 1
        elif (row.provider_name, row.provider_url, row.is_registered) != (
            provider.name[:100],
            provider.url[:255],
            True,
        ):
            row.provider_name, row.provider_url = provider.name[:100], provider.url[:255]
            row.is_registered = True
            updated += 1
    gone = [row for pid, row in rows.items() if pid not in registry and row.is_registered]
    for row in gone:
        row.is_registered = False
        row.lease_owner = row.lease_expires_at = None
    await db_session.commit()
    if added or updated or gone:
        logger.info(
            "providers synced added=%d updated=%d unregistered=%d", added, updated, len(gone)
        )
    return SyncReport(added=added, updated=updated, unregistered=len(gone))


@dataclass(frozen=True)
class ProviderView:
    """One provider as the endpoints show it: the stored row plus what is derived from it."""

    row: ProviderStatus
    kind: str | None
    nsfw: bool
    language: str | None
    status: str
    effective_check_interval: int
    is_healthy: bool
    uptime: Mapping[str, float | None]

    def __getattr__(self, name: str) -> Any:
        # The seed's columns read straight through (provider_id, last_check, ...).
        return getattr(self.row, name)

    @property
    def check_interval(self) -> int:
        return self.effective_check_interval

    @property
    def check_interval_override(self) -> int | None:
        return self.row.check_interval

    @property
    def uptime_24h(self) -> float | None:
        return self.uptime.get("24h")

    @property
    def uptime_7d(self) -> float | None:
        return self.uptime.get("7d")

    @property
    def uptime_30d(self) -> float | None:
        return self.uptime.get("30d")


async def _views(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    settings: Settings,
    now: datetime,
    rows: list[ProviderStatus],
) -> list[ProviderView]:
    shortest = await claims.shortest_user_interval(db_session=db_session)
    uptimes = await history.uptime_windows(db_session=db_session, now=now)
    views = []
    for row in rows:
        provider = registry.get(row.provider_id) if row.provider_id in registry else None
        definition = provider.definition if provider is not None else None
        views.append(
            ProviderView(
                row=row,
                kind=definition.kind if definition else None,
                nsfw=definition.nsfw if definition else False,
                language=definition.language if definition else None,
                status=rules.display_status(
                    row.status, lease_expires_at=row.lease_expires_at, now=now
                ),
                effective_check_interval=rules.effective_interval(
                    override=row.check_interval,
                    user_intervals=[] if shortest is None else [shortest],
                    default=settings.default_check_interval,
                ),
                is_healthy=rules.is_healthy(
                    status=row.status,
                    is_enabled=row.is_enabled,
                    consecutive_failures=row.consecutive_failures,
                    max_consecutive_failures=row.max_consecutive_failures,
                ),
                uptime=uptimes.get(row.provider_id, dict.fromkeys(rules.WINDOWS)),
            )
        )
    return views


async def list_providers(
    *, db_session: AsyncSession, registry: ProviderRegistry, settings: Settings, now: datetime
) -> list[ProviderView]:
    """Every registered provider with its status, in registry order."""
    rows = {
        row.provider_id: row
        for row in (await db_session.scalars(select(PS).where(PS.is_registered.is_(True)))).all()
    }
    ordered = [rows[pid] for pid in registry.ids() if pid in rows]
    return await _views(
        db_session=db_session, registry=registry, settings=settings, now=now, rows=ordered
    )


async def get_row(*, db_session: AsyncSession, provider_id: str) -> ProviderStatus:
    row = await db_session.scalar(
        select(PS).where(PS.provider_id == provider_id, PS.is_registered.is_(True))
    )
    if row is None:
        raise ProviderNotFound(provider_id)
    return row


async def get_provider(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    settings: Settings,
    now: datetime,
    provider_id: str,
) -> ProviderView:
    row = await get_row(db_session=db_session, provider_id=provider_id)
    (view,) = await _views(
        db_session=db_session, registry=registry, settings=settings, now=now, rows=[row]
    )
    return view


async def update_settings(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    settings: Settings,
    now: datetime,
    provider_id: str,
    changes: Mapping[str, Any],
) -> ProviderView:
    """An admin's change to one provider. Enabling makes it due now; a new interval reschedules
    it from its last check. A new threshold applies from the next completed check."""
    row = await get_row(db_session=db_session, provider_id=provider_id)
    if "is_enabled" in changes and changes["is_enabled"] is not None:
        if changes["is_enabled"] and not row.is_enabled:
            row.next_check_at = now
        row.is_enabled = bool(changes["is_enabled"])
    if "max_consecutive_failures" in changes and changes["max_consecutive_failures"] is not None:
        row.max_consecutive_failures = int(changes["max_consecutive_failures"])
    if "check_interval" in changes:
        row.check_interval = changes["check_interval"]
        await db_session.flush()
        await _reschedule_rows(
            db_session=db_session, settings=settings, rows=[row], only_earlier=False
        )
    await db_session.commit()
    logger.info("provider settings changed provider=%s changes=%s", provider_id, dict(changes))
    return await get_provider(
        db_session=db_session,
        registry=registry,
        settings=settings,
        now=now,
        provider_id=provider_id,
    )


async def _reschedule_rows(
    *,
    db_session: AsyncSession,
    settings: Settings,
    rows: list[ProviderStatus],
    only_earlier: bool,
) -> None:
    """Re-derive next checks from the last check and the current effective interval. With
    ``only_earlier`` a check is brought forward but never pushed back: a user choosing a longer
    interval waits for the slot already planned."""
    shortest = await claims.shortest_user_interval(db_session=db_session)
    for row in rows:
        state = claims.state_of(row)
        if row.last_check is None or rules.is_retrying(state):
            continue
        due = rules.next_check_at(
            state,
            last_check=row.last_check,
            interval_minutes=rules.effective_interval(
                override=row.check_interval,
                user_intervals=[] if shortest is None else [shortest],
                default=settings.default_check_interval,
            ),
            retry_seconds=settings.retry_interval_seconds,
            down_minutes=settings.down_check_interval,
        )
        if not only_earlier or row.next_check_at is None or due < row.next_check_at:
            row.next_check_at = due


async def set_user_interval(
    *, db_session: AsyncSession, user: User, interval: int, settings: Settings, now: datetime
) -> int:
    """Store the caller's preference and return the resulting default effective interval."""
    await user_service.set_check_interval(db_session=db_session, user=user, interval=interval)
    rows = list(
        (
            await db_session.scalars(
                select(PS).where(
                    PS.check_interval.is_(None), PS.is_enabled.is_(True), PS.is_registered.is_(True)
                )
            )
        ).all()
    )
    await _reschedule_rows(db_session=db_session, settings=settings, rows=rows, only_earlier=True)
    await db_session.commit()
    shortest = await claims.shortest_user_interval(db_session=db_session)
    return rules.effective_interval(
        override=None,
        user_intervals=[] if shortest is None else [shortest],
        default=settings.default_check_interval,
    )


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
    *, db_session: AsyncSession, registry: ProviderRegistry, settings: Settings, now: datetime
) -> Statistics:
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
        key=lambda v: v.response_time,
    )
    since = now - timedelta(hours=24)
    recent = (
        await db_session.execute(
            select(func.count(), func.count().filter(ProviderCheck.ok.is_(False))).where(
                ProviderCheck.checked_at >= since
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
        response_time=view.response_time,
    )


async def provider_history(
    *, db_session: AsyncSession, provider_id: str, window: str, now: datetime
) -> history.History:
    await get_row(db_session=db_session, provider_id=provider_id)
    return await history.history(
        db_session=db_session, provider_id=provider_id, window=window, now=now
    )


async def recent_checks(*, db_session: AsyncSession, limit: int) -> dict[str, list[ProviderCheck]]:
    """The last ``limit`` checks of every provider, oldest first: the dashboard's heartbeat bars
    and sparklines. One windowed query rather than one per provider."""
    ranked = select(
        ProviderCheck.id,
        func.row_number()
        .over(
            partition_by=ProviderCheck.provider_id,
            order_by=(ProviderCheck.checked_at.desc(), ProviderCheck.id.desc()),
        )
        .label("rank"),
    ).subquery()
    rows = await db_session.scalars(
        select(ProviderCheck)
        .join(ranked, ranked.c.id == ProviderCheck.id)
        .where(ranked.c.rank <= limit)
        .order_by(ProviderCheck.provider_id, ProviderCheck.checked_at, ProviderCheck.id)
    )
    found: dict[str, list[ProviderCheck]] = {}
    for check in rows.all():
        found.setdefault(check.provider_id, []).append(check)
    return found


async def search_skips(*, db_session: AsyncSession, include_down: bool = False) -> dict[str, str]:
    """Providers a search leaves out, ``{provider_id: reason}``: disabled ones always, ``down``
    ones unless the user asks to include them."""
    wanted: ColumnElement[bool] = PS.is_enabled.is_(False)
    if not include_down:
        wanted = wanted | (PS.status == rules.DOWN)
    rows = (
        await db_session.execute(
            select(PS.provider_id, PS.is_enabled).where(PS.is_registered.is_(True), wanted)
        )
    ).all()
    return {row.provider_id: "down" if row.is_enabled else "disabled" for row in rows}
