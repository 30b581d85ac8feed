"""Failed searches as outage evidence: each one that says the site is failing is counted on the
provider's row at once, and enough of them with the failed checks mark it ``down``
(``rules.apply_search_failure``). One short transaction per failure; never marks ``active``."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.monitoring import claims, rules
from kurobara.monitoring.models import ProviderStatus, ProviderTransition
from kurobara.providers.base import HealthCheckResult

logger = logging.getLogger("kurobara.monitoring")
PS = ProviderStatus

_COLUMNS = (
    PS.provider_id, PS.status_changed_at, PS.next_check_at, PS.is_enabled, PS.is_registered,
    *claims.RECORD_COLUMNS,
)  # fmt: skip


async def _locked_row(db_session: AsyncSession, provider_id: str, now: datetime) -> Any:
    """The row, write-locked: ``FOR UPDATE`` on PostgreSQL; on SQLite an UPDATE takes the
    database's write lock before the read (as ``recording`` does)."""
    if db_session.get_bind().dialect.name == "postgresql":
        stmt: Any = select(*_COLUMNS).where(PS.provider_id == provider_id).with_for_update()
    else:
        stmt = (
            update(PS)
            .where(PS.provider_id == provider_id)
            .values(updated_at=now)
            .returning(*_COLUMNS)
        )
    return (await db_session.execute(stmt)).first()


async def record_search_failure(
    *,
    db_session: AsyncSession,
    provider_id: str,
    kind: str,
    http_status: int | None,
    message: str,
    now: datetime,
    down_minutes: int,
) -> rules.Applied | None:
    """Count one failed search against ``provider_id``; the step it caused, or None when the
    failure is no evidence of an outage (or the provider is unknown, disabled, unregistered)."""
    if not rules.is_outage_evidence(kind, http_status):
        return None
    row = await _locked_row(db_session, provider_id, now)
    if row is None or not row.is_enabled or not row.is_registered:
        await db_session.commit()
        return None
    seen = rules.add_search_failure(claims.search_failures_of(row), now)
    applied = rules.apply_search_failure(claims.state_of(row), seen, now)
    values: dict[str, Any] = {
        "search_failures": seen.count,
        "search_failures_since": seen.since,
        "last_search_failure_at": seen.last,
        "updated_at": now,
    }
    if applied.transition is not None:
        result = HealthCheckResult(
            ok=False, error=f"search: {message}", error_kind=kind, http_status=http_status
        )
        # Only a check can say it is back: the next one comes at the down interval at most.
        recheck = now + timedelta(minutes=down_minutes)
        values.update(
            status=rules.DOWN,
            status_changed_at=now,
            error_kind=kind,
            error_message=result.error,
            http_status=http_status,
            next_check_at=min(row.next_check_at, recheck) if row.next_check_at else recheck,
        )
        await db_session.execute(
            insert(ProviderTransition).values(
                provider_id=provider_id,
                **claims.transition_values(row.provider_name, applied, result),
            )
        )
        logger.warning(
            "provider=%s down on search evidence kind=%s searches=%d checks=%d",
            provider_id, kind, seen.count, row.consecutive_failures,
        )  # fmt: skip
    await db_session.execute(update(PS).where(PS.provider_id == provider_id).values(**values))
    await db_session.commit()
    return applied
