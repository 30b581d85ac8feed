"""Writes people make to the monitor: an admin's settings of one provider, and a user's check
interval preference. Both re-derive the schedule so the change shows in the next check."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.config import Settings
from kurobara.monitoring import claims, rules
from kurobara.monitoring.models import ProviderStatus as PS
from kurobara.monitoring.views import ProviderView, get_provider, get_row
from kurobara.providers.registry import ProviderRegistry
from kurobara.users import service as user_service
from kurobara.users.models import User

logger = logging.getLogger("kurobara.monitoring")


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
    row = await get_row(db_session=db_session, provider_id=provider_id, registry=registry)
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
    rows: list[PS],
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
                select(PS).where(PS.check_interval.is_(None), PS.is_enabled.is_(True))
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
