"""What the endpoints and pages read: provider views (the stored row plus what is derived from
it), the dashboard's recent checks, one provider's history and what search must skip. Every read
is bounded by what the caller shows and filtered by this replica's registry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from kurobara.config import Settings
from kurobara.monitoring import claims, history, rules
from kurobara.monitoring.models import ProviderCheck
from kurobara.monitoring.models import ProviderStatus as PS
from kurobara.providers.registry import ProviderRegistry


class ProviderNotFound(LookupError):
    def __init__(self, provider_id: str) -> None:
        super().__init__(provider_id)
        self.provider_id = provider_id

    def __str__(self) -> str:
        return f"unknown provider {self.provider_id!r}"


@dataclass(frozen=True)
class ProviderView:
    """One provider as the endpoints show it: the seed's columns, and what is derived."""

    provider_id: str
    provider_name: str
    provider_url: str
    status: str  # the display status: ``testing`` while a check is in flight
    last_check: datetime | None
    response_time: int | None
    error_message: str | None
    error_kind: str | None
    http_status: int | None
    stage: str | None
    consecutive_failures: int
    total_checks: int
    successful_checks: int
    uptime_percentage: int
    is_enabled: bool
    check_interval_override: int | None
    max_consecutive_failures: int
    status_changed_at: datetime | None
    next_check_at: datetime | None
    kind: str | None
    nsfw: bool
    language: str | None
    effective_check_interval: int
    is_healthy: bool
    uptime: Mapping[str, float | None]

    @property
    def check_interval(self) -> int:
        return self.effective_check_interval

    @property
    def uptime_24h(self) -> float | None:
        return self.uptime.get("24h")

    @property
    def uptime_7d(self) -> float | None:
        return self.uptime.get("7d")

    @property
    def uptime_30d(self) -> float | None:
        return self.uptime.get("30d")


@dataclass(frozen=True)
class ViewContext:
    """What every view of one read shares: read once per page, not once per provider."""

    registry: ProviderRegistry
    now: datetime
    interval: int  # the effective interval of providers without an override
    uptimes: Mapping[str, Mapping[str, float | None]]


def make_view(row: PS, context: ViewContext) -> ProviderView:
    provider = (
        context.registry.get(row.provider_id) if row.provider_id in context.registry else None
    )
    definition = provider.definition if provider is not None else None
    return ProviderView(
        provider_id=row.provider_id,
        provider_name=row.provider_name,
        provider_url=row.provider_url,
        status=rules.display_status(
            row.status, lease_expires_at=row.lease_expires_at, now=context.now
        ),
        last_check=row.last_check,
        response_time=row.response_time,
        error_message=row.error_message,
        error_kind=row.error_kind,
        http_status=row.http_status,
        stage=row.stage,
        consecutive_failures=row.consecutive_failures,
        total_checks=row.total_checks,
        successful_checks=row.successful_checks,
        uptime_percentage=row.uptime_percentage,
        is_enabled=row.is_enabled,
        check_interval_override=row.check_interval,
        max_consecutive_failures=row.max_consecutive_failures,
        status_changed_at=row.status_changed_at,
        next_check_at=row.next_check_at,
        kind=definition.kind if definition else None,
        nsfw=definition.nsfw if definition else False,
        language=definition.language if definition else None,
        effective_check_interval=row.check_interval or context.interval,
        is_healthy=rules.is_healthy(
            status=row.status,
            is_enabled=row.is_enabled,
            consecutive_failures=row.consecutive_failures,
            max_consecutive_failures=row.max_consecutive_failures,
        ),
        uptime=context.uptimes.get(row.provider_id, dict.fromkeys(rules.WINDOWS)),
    )


async def view_context(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    settings: Settings,
    now: datetime,
    provider_ids: Sequence[str] | None = None,
) -> ViewContext:
    shortest = await claims.shortest_user_interval(db_session=db_session)
    return ViewContext(
        registry=registry,
        now=now,
        interval=rules.effective_interval(
            override=None,
            user_intervals=[] if shortest is None else [shortest],
            default=settings.default_check_interval,
        ),
        uptimes=await history.uptime_windows(
            db_session=db_session, now=now, provider_ids=provider_ids
        ),
    )


async def _rows(
    *, db_session: AsyncSession, registry: ProviderRegistry, provider_ids: Sequence[str]
) -> list[PS]:
    """The rows of the given providers this replica has, in the order given."""
    known = [pid for pid in provider_ids if pid in registry]
    if not known:
        return []
    found = {
        row.provider_id: row
        for row in (await db_session.scalars(select(PS).where(PS.provider_id.in_(known)))).all()
    }
    return [found[pid] for pid in known if pid in found]


async def list_providers(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    settings: Settings,
    now: datetime,
    provider_ids: Sequence[str] | None = None,
) -> list[ProviderView]:
    """Every provider of this replica's registry with its status, in registry order; or only
    those of ``provider_ids`` (a page's sources), in one read."""
    wanted = registry.ids() if provider_ids is None else list(dict.fromkeys(provider_ids))
    rows = await _rows(db_session=db_session, registry=registry, provider_ids=wanted)
    context = await view_context(
        db_session=db_session,
        registry=registry,
        settings=settings,
        now=now,
        provider_ids=None if provider_ids is None else [row.provider_id for row in rows],
    )
    return [make_view(row, context) for row in rows]


async def get_row(
    *, db_session: AsyncSession, provider_id: str, registry: ProviderRegistry | None = None
) -> PS:
    """The stored row; with ``registry``, only a provider this replica has."""
    if registry is not None and provider_id not in registry:
        raise ProviderNotFound(provider_id)
    row = await db_session.scalar(select(PS).where(PS.provider_id == provider_id))
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
    views = await list_providers(
        db_session=db_session,
        registry=registry,
        settings=settings,
        now=now,
        provider_ids=[provider_id],
    )
    if not views:
        raise ProviderNotFound(provider_id)
    return views[0]


async def provider_history(
    *,
    db_session: AsyncSession,
    provider_id: str,
    window: str,
    now: datetime,
    registry: ProviderRegistry | None = None,
) -> history.History:
    await get_row(db_session=db_session, provider_id=provider_id, registry=registry)
    return await history.history(
        db_session=db_session, provider_id=provider_id, window=window, now=now
    )


# Providers per statement of ``recent_checks``: bounds the statement's size, not its cost.
_RECENT_CHUNK = 50


async def recent_checks(
    *, db_session: AsyncSession, provider_ids: Sequence[str], limit: int
) -> dict[str, list[ProviderCheck]]:
    """The last ``limit`` checks of each provider, oldest first: the dashboard's heartbeat bars
    and sparklines. Each provider's part is its own ``ORDER BY checked_at DESC LIMIT n`` on the
    ``(provider_id, checked_at)`` index, selecting whole rows, so the cost follows what the page
    shows, not how much history is kept (an ``id IN (...)`` over the parts let PostgreSQL scan
    the whole table); the parts are joined with ``UNION ALL`` into few statements."""
    found: dict[str, list[ProviderCheck]] = {}
    ids = list(dict.fromkeys(provider_ids))
    for start in range(0, len(ids), _RECENT_CHUNK):
        parts = [
            select(ProviderCheck)
            .where(ProviderCheck.provider_id == pid)
            .order_by(ProviderCheck.checked_at.desc(), ProviderCheck.id.desc())
            .limit(limit)
            .subquery()
            .select()
            for pid in ids[start : start + _RECENT_CHUNK]
        ]
        wanted = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
        rows = await db_session.scalars(select(aliased(ProviderCheck, wanted)))
        for check in rows.all():
            found.setdefault(check.provider_id, []).append(check)
    for checks in found.values():
        checks.sort(key=lambda check: (check.checked_at, check.id))
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
