"""Check history: a raw ``provider_check`` row per check, hourly rollups added to as checks
land (an upsert with increments, so replicas never overwrite each other), uptime windows and
percentiles read from the rollups, and the retention that keeps both bounded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, delete, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.monitoring import rules
from kurobara.monitoring.models import (
    ProviderCheck,
    ProviderCheckHourly,
    ProviderTransition,
)
from kurobara.providers.base import HealthCheckResult

# Error messages can be whole HTML pages; history keeps the gist.
MAX_MESSAGE_CHARS = 1000
# How many raw checks the history endpoint returns at most.
RECENT_CHECKS_LIMIT = 200


def dialect_insert(db_session: AsyncSession, table: Any) -> Any:
    """``INSERT`` with ``ON CONFLICT`` for the session's backend (both speak it)."""
    if db_session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def clip(message: str | None) -> str | None:
    if message is None or len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 1] + "…"


def check_values(
    provider_id: str, result: HealthCheckResult, now: datetime, trigger: str
) -> dict[str, Any]:
    """The raw ``provider_check`` row of one check (``recording`` writes them in batches and
    folds them into their hours)."""
    return {
        "provider_id": provider_id,
        "checked_at": now,
        "ok": result.ok,
        "response_time": result.response_ms,
        "error_kind": result.error_kind,
        "http_status": result.http_status,
        "error_message": clip(result.error),
        "stage": None if result.ok else result.stage,
        "trigger": trigger,
    }


async def rollups(
    *,
    db_session: AsyncSession,
    since: datetime,
    provider_id: str | None = None,
) -> list[ProviderCheckHourly]:
    query = select(ProviderCheckHourly).where(ProviderCheckHourly.hour >= since)
    if provider_id is not None:
        query = query.where(ProviderCheckHourly.provider_id == provider_id)
    return list((await db_session.scalars(query.order_by(ProviderCheckHourly.hour))).all())


def _uptime_query(*, some: bool) -> Any:
    """Uptime sums per provider over every window (window starts bound as ``start_<window>``,
    the oldest as ``oldest``; ``some``: only the providers bound as ``ids``). Built once."""
    sums = []
    for window in rules.WINDOWS:
        in_window = ProviderCheckHourly.hour >= bindparam(f"start_{window}")
        sums.append(func.sum(func.coalesce(_when(in_window, ProviderCheckHourly.checks), 0)))
        sums.append(func.sum(func.coalesce(_when(in_window, ProviderCheckHourly.successes), 0)))
    return (
        select(ProviderCheckHourly.provider_id, *sums)
        .where(ProviderCheckHourly.hour >= bindparam("oldest"))
        .where(
            ProviderCheckHourly.provider_id.in_(bindparam("ids", expanding=True))
            if some
            else true()
        )
        .group_by(ProviderCheckHourly.provider_id)
    )


async def uptime_windows(
    *, db_session: AsyncSession, now: datetime, provider_ids: Sequence[str] | None = None
) -> dict[str, dict[str, float | None]]:
    """Uptime % per provider over every window, in one grouped query over the rollups; only
    of ``provider_ids`` when given (a page that shows a few)."""
    starts = {window: rules.window_start(window, now) for window in rules.WINDOWS}
    params: dict[str, Any] = {f"start_{window}": at for window, at in starts.items()}
    params["oldest"] = min(starts.values())
    if provider_ids is None:
        query = _UPTIME_ALL
    else:
        query, params["ids"] = _UPTIME_SOME, list(provider_ids)
    result: dict[str, dict[str, float | None]] = {}
    for row in (await db_session.execute(query, params)).all():
        provider_id, *counts = row
        result[provider_id] = {
            window: _percent(counts[2 * i + 1], counts[2 * i])
            for i, window in enumerate(rules.WINDOWS)
        }
    return result


def _when(condition: Any, value: Any) -> Any:
    return case((condition, value), else_=0)


_UPTIME_ALL = _uptime_query(some=False)
_UPTIME_SOME = _uptime_query(some=True)


def _percent(successes: int | None, checks: int | None) -> float | None:
    if not checks:
        return None
    return round(100 * (successes or 0) / checks, 2)


@dataclass(frozen=True)
class HourRow:
    hour: datetime
    checks: int
    successes: int
    uptime_percentage: float | None
    avg_response_time: int | None
    p50_response_time: int | None
    p95_response_time: int | None


@dataclass(frozen=True)
class History:
    provider_id: str
    window: str
    uptime_percentage: float | None
    total_checks: int
    p50_response_time: int | None
    p95_response_time: int | None
    checks: list[ProviderCheck]
    hours: list[HourRow]
    transitions: list[ProviderTransition]


def hour_row(rollup: ProviderCheckHourly) -> HourRow:
    buckets = rollup.buckets()
    timed = sum(buckets)
    return HourRow(
        hour=rollup.hour,
        checks=rollup.checks,
        successes=rollup.successes,
        uptime_percentage=_percent(rollup.successes, rollup.checks),
        avg_response_time=round(rollup.response_ms_sum / timed) if timed else None,
        p50_response_time=rules.percentile(buckets, 0.5),
        p95_response_time=rules.percentile(buckets, 0.95),
    )


async def history(
    *, db_session: AsyncSession, provider_id: str, window: str, now: datetime
) -> History:
    start = rules.window_start(window, now)
    hourly = await rollups(db_session=db_session, since=start, provider_id=provider_id)
    merged = rules.merge_buckets(hourly)
    checks = await db_session.scalars(
        select(ProviderCheck)
        .where(ProviderCheck.provider_id == provider_id, ProviderCheck.checked_at >= start)
        .order_by(ProviderCheck.checked_at.desc(), ProviderCheck.id.desc())
        .limit(RECENT_CHECKS_LIMIT)
    )
    transitions = await db_session.scalars(
        select(ProviderTransition)
        .where(ProviderTransition.provider_id == provider_id, ProviderTransition.at >= start)
        .order_by(ProviderTransition.at.desc(), ProviderTransition.id.desc())
    )
    return History(
        provider_id=provider_id,
        window=window,
        uptime_percentage=rules.uptime(hourly, window, now),
        total_checks=sum(r.checks for r in hourly),
        p50_response_time=rules.percentile(merged, 0.5),
        p95_response_time=rules.percentile(merged, 0.95),
        checks=list(checks.all()),
        hours=[hour_row(r) for r in hourly],
        transitions=list(transitions.all()),
    )


async def checks_since(*, db_session: AsyncSession, since: datetime) -> tuple[int, int]:
    """(checks, successful checks) recorded since ``since``, from the rollups."""
    row = (
        await db_session.execute(
            select(
                func.coalesce(func.sum(ProviderCheckHourly.checks), 0),
                func.coalesce(func.sum(ProviderCheckHourly.successes), 0),
            ).where(ProviderCheckHourly.hour >= since)
        )
    ).one()
    return int(row[0]), int(row[1])


@dataclass(frozen=True)
class Pruned:
    checks: int
    rollups: int
    transitions: int


async def prune(
    *, db_session: AsyncSession, now: datetime, history_days: int, rollup_days: int
) -> Pruned:
    """Retention: raw checks after ``history_days``, rollups and transitions after
    ``rollup_days`` (transitions are few and explain the rollups, so they live as long).
    Idempotent, so every replica may run it."""
    raw_cutoff = now - timedelta(days=history_days)
    rollup_cutoff = now - timedelta(days=rollup_days)
    checks = await db_session.execute(
        delete(ProviderCheck).where(ProviderCheck.checked_at < raw_cutoff)
    )
    hourly = await db_session.execute(
        delete(ProviderCheckHourly).where(
            ProviderCheckHourly.hour < rules.hour_floor(rollup_cutoff)
        )
    )
    flips = await db_session.execute(
        delete(ProviderTransition).where(
            ProviderTransition.at < rollup_cutoff,
            ProviderTransition.notified_at.is_not(None)
            | ProviderTransition.gave_up_at.is_not(None),
        )
    )
    await db_session.commit()
    return Pruned(checks=_rowcount(checks), rollups=_rowcount(hourly), transitions=_rowcount(flips))


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
