"""The scheduler's side of ``provider_status``: claim due checks, release leases (results are
written by ``recording``).

Claiming is how replicas share the work. A claimed row carries ``lease_owner`` and
``lease_expires_at``; another replica skips it until the lease expires (its owner died
mid-check). PostgreSQL picks candidates with ``FOR UPDATE SKIP LOCKED``, so concurrent claimers
never wait on each other; SQLite (one process) claims each row with a conditional UPDATE and
keeps it only when the row count says it won. Each function is one short transaction; the check
itself runs between them, never inside one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    String,
    and_,
    any_,
    bindparam,
    column,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from kurobara.monitoring import history, identity, rules
from kurobara.monitoring.models import ProviderCheck, ProviderStatus
from kurobara.providers.base import HealthCheckResult
from kurobara.users.models import User

logger = logging.getLogger("kurobara.monitoring")
PS = ProviderStatus


class Unset:
    """Marks "not given" where None is a meaningful value."""


UNSET = Unset()


async def relaxed_commit(db_session: AsyncSession) -> None:
    """PostgreSQL: don't wait for the WAL flush when this transaction commits. Losing the last
    few milliseconds of check results to a database crash costs at most a repeated check; waiting
    for a disk flush twice per check costs most of the monitor's throughput."""
    if db_session.get_bind().dialect.name == "postgresql":
        await db_session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def _among(db_session: AsyncSession, provider_ids: Sequence[str]) -> ColumnElement[bool]:
    """``provider_id`` is one of ``provider_ids`` (a replica's whole registry, thousands of
    ids), bound as one parameter: an array on PostgreSQL, a JSON list on SQLite (an ``IN`` with
    one bound parameter per id is slower still). The start-up sweep's filter, run once; the
    claims, run all the time, test the registry on the rows they read (``_ours_first``)."""
    ids = list(provider_ids)
    if db_session.get_bind().dialect.name == "postgresql":
        return PS.provider_id == any_(bindparam("among", ids, type_=ARRAY(String), unique=True))
    listed: Any = bindparam("among", json.dumps(ids), unique=True)
    return PS.provider_id.in_(select(column("value")).select_from(func.json_each(listed)))


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(PS.lease_expires_at.is_(None), PS.lease_expires_at <= now)


def _overdue(now: datetime) -> ColumnElement[bool]:
    """SQL of ``rules.lease_overdue``."""
    return or_(PS.lease_expires_at.is_(None), PS.lease_expires_at <= now + rules.LEASE_MARGIN)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        PS.is_enabled.is_(True),
        PS.is_registered.is_(True),
        or_(PS.next_check_at.is_(None), PS.next_check_at <= now),
        _free(now),
    )


@dataclass(frozen=True)
class Won:
    """What a claim leased: ``provider_ids``, oldest due first; and ``others``, how many due
    providers of other replicas' registries it passed over on the way (the next claim reads
    that many candidates more)."""

    provider_ids: list[str]
    others: int


async def _ours_first(
    db_session: AsyncSession,
    candidates: Select[Any, Any],
    ours: frozenset[str],
    wanted: int,
    others: int,
) -> tuple[list[Any], int]:
    """The first ``wanted`` rows of ``candidates`` (ordered, with ``provider_id``) whose provider
    is in ``ours``, and how many of other registries came before them. Reads ``wanted +
    others`` rows, and twice as many while a full read holds too few of ours: the registry is
    tested here, not in SQL, so a claim costs what it claims, not the size of the registry."""
    fetch = wanted + others
    while True:
        rows = (await db_session.execute(candidates.limit(fetch))).all()
        kept: list[Any] = []
        passed = 0
        for row in rows:
            if len(kept) == wanted:
                break
            if row.provider_id in ours:
                kept.append(row)
            else:
                passed += 1
        if len(kept) == wanted or len(rows) < fetch:
            return kept, passed
        fetch *= 2


async def claim_due(
    *,
    db_session: AsyncSession,
    owner: str,
    now: datetime,
    limit: int,
    lease_until: datetime,
    provider_ids: Collection[str],
    others: int = 0,
) -> Won:
    """Lease up to ``limit`` due checks to ``owner``, among ``provider_ids`` (the providers this
    replica has: another replica's provider is never claimed here, so never re-claimed in a
    loop); ``others``: how many other replicas' providers the last claim passed over."""
    if limit <= 0 or not provider_ids:
        return Won([], 0)
    candidates = (
        select(PS.id, PS.provider_id)
        .where(_due(now))
        .order_by(PS.next_check_at.asc().nulls_first(), PS.provider_id)
    )
    if db_session.get_bind().dialect.name == "postgresql":
        # Skip rows another claimer holds: concurrent claimers never wait on each other. (The
        # candidates are locked by their own statement: as a subquery of the UPDATE the
        # planner may run them more than once and lease more than ``limit``.)
        await relaxed_commit(db_session)
        candidates = candidates.with_for_update(skip_locked=True)
    # On SQLite the candidates are read outside a transaction; the UPDATE repeats the due test,
    # so a row another process claimed meanwhile is not leased twice.
    kept, passed = await _ours_first(db_session, candidates, frozenset(provider_ids), limit, others)
    if not kept:
        await db_session.commit()
        return Won([], passed)
    rows = (
        await db_session.execute(
            update(PS)
            .where(PS.id.in_([row.id for row in kept]), _due(now))
            .values(lease_owner=owner, lease_expires_at=lease_until)
            .returning(PS.provider_id, PS.next_check_at)
            .execution_options(synchronize_session=False)
        )
    ).all()
    await db_session.commit()
    ordered = sorted(
        rows, key=lambda row: (row.next_check_at is not None, row.next_check_at or now)
    )
    return Won([row.provider_id for row in ordered], passed)


async def claim(
    *,
    db_session: AsyncSession,
    provider_id: str,
    owner: str,
    now: datetime,
    lease_until: datetime,
) -> bool:
    """Lease one provider for a check run now (manual test), due or not; False while another
    check of it may still be running. A lease whose check's timeout has passed is taken over:
    its holder died mid-check."""
    result = await db_session.execute(
        update(PS)
        .where(PS.provider_id == provider_id, _overdue(now))
        .values(lease_owner=owner, lease_expires_at=lease_until)
    )
    await db_session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def latest_check(*, db_session: AsyncSession, provider_id: str) -> ProviderCheck | None:
    """The provider's newest recorded check (index-backed)."""
    check: ProviderCheck | None = await db_session.scalar(
        select(ProviderCheck)
        .where(ProviderCheck.provider_id == provider_id)
        .order_by(ProviderCheck.checked_at.desc(), ProviderCheck.id.desc())
        .limit(1)
    )
    return check


async def current_status(*, db_session: AsyncSession, provider_id: str) -> str | None:
    status: str | None = await db_session.scalar(
        select(PS.status).where(PS.provider_id == provider_id)
    )
    return status


async def shortest_user_interval(*, db_session: AsyncSession) -> int | None:
    value = await db_session.scalar(
        select(func.min(User.provider_check_interval)).where(User.is_active.is_(True))
    )
    return int(value) if value is not None else None


def state_of(row: Any) -> rules.StatusState:
    """The state machine's view of a provider_status row (ORM object or result row)."""
    return rules.StatusState(
        status=row.status,
        consecutive_failures=row.consecutive_failures,
        total_checks=row.total_checks,
        successful_checks=row.successful_checks,
        max_consecutive_failures=row.max_consecutive_failures,
    )


RECORD_COLUMNS = (
    PS.provider_name,
    PS.status,
    PS.consecutive_failures,
    PS.total_checks,
    PS.successful_checks,
    PS.max_consecutive_failures,
    PS.check_interval,
    PS.lease_owner,
    PS.lease_expires_at,
    PS.search_failures,
    PS.search_failures_since,
    PS.last_search_failure_at,
)


def search_failures_of(row: Any) -> rules.SearchFailures:
    return rules.SearchFailures(
        count=row.search_failures,
        since=row.search_failures_since,
        last=row.last_search_failure_at,
    )


def stored_values(
    applied: rules.Applied, result: HealthCheckResult, now: datetime
) -> dict[str, Any]:
    state = applied.state
    values: dict[str, Any] = {
        "status": state.status,
        "consecutive_failures": state.consecutive_failures,
        "total_checks": state.total_checks,
        "successful_checks": state.successful_checks,
        "uptime_percentage": state.uptime_percentage,
        "last_check": now,
        # A failure's elapsed time is the timeout, not the site's speed.
        "response_time": result.response_ms if result.ok else None,
        "error_message": None if result.ok else history.clip(result.error),
        "error_kind": None if result.ok else result.error_kind,
        "http_status": result.http_status,
        "stage": None if result.ok else result.stage,
    }
    if applied.transition is not None:
        values["status_changed_at"] = now
    return values


def transition_values(
    provider_name: str, applied: rules.Applied, result: HealthCheckResult
) -> dict[str, Any]:
    assert applied.transition is not None
    before, after = applied.transition
    return {
        "provider_name": provider_name,
        "from_status": before,
        "to_status": after,
        "at": applied.at,
        "error_kind": None if result.ok else result.error_kind,
        "error_message": None if result.ok else history.clip(result.error),
        # Nothing to send for the others; they are history only.
        "notified_at": None if applied.notify else applied.at,
    }


async def hand_back(
    *, db_session: AsyncSession, provider_id: str, owner: str, retry_at: datetime
) -> bool:
    """Give up a claimed check this replica cannot run (its provider is gone from the registry,
    or the check crashed): the lease is released and the provider is due again at ``retry_at``
    rather than at once, so a check that keeps failing to run does not spin."""
    result = await db_session.execute(
        update(PS)
        .where(PS.provider_id == provider_id, PS.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None, next_check_at=retry_at)
    )
    await db_session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def release_leases(*, db_session: AsyncSession, owner: str) -> int:
    """Hand back every lease of ``owner`` (on stop), so nothing stays ``testing``."""
    result = await db_session.execute(
        update(PS).where(PS.lease_owner == owner).values(lease_owner=None, lease_expires_at=None)
    )
    await db_session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def reclaim_dead_leases(*, db_session: AsyncSession, lineage: str, keep: str) -> int:
    """At start-up: hand back the leases an earlier life of this process left (owners that
    start with ``lineage``, are not ``keep``, the current owner, and whose process has ended:
    ``identity.earlier_life``). They are dead for sure, so the providers they hold need not
    wait for the leases to expire; a sibling worker's live leases stay its own."""
    pattern = lineage.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    owners = await db_session.scalars(
        select(PS.lease_owner)
        .where(PS.lease_owner.like(pattern, escape="\\"), PS.lease_owner != keep)
        .distinct()
    )
    dead = [owner for owner in owners if owner and identity.earlier_life(owner, lineage)]
    if not dead:
        await db_session.rollback()
        return 0
    result = await db_session.execute(
        update(PS).where(PS.lease_owner.in_(dead)).values(lease_owner=None, lease_expires_at=None)
    )
    await db_session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def request_early_check(*, db_session: AsyncSession, provider_id: str, now: datetime) -> bool:
    """Make a provider due now (it failed a user's search); the scheduler of any replica picks
    it up. Coalesces: nothing changes when a check is already due, or when the provider is
    already failing (its retry interval, or its interval while down, already decides) — so a
    burst of failing searches costs the site one extra check, not one per search."""
    result = await db_session.execute(
        update(PS)
        .where(
            PS.provider_id == provider_id,
            PS.is_enabled.is_(True),
            PS.is_registered.is_(True),
            PS.consecutive_failures == 0,
            or_(PS.next_check_at.is_(None), PS.next_check_at > now),
        )
        .values(next_check_at=now)
    )
    await db_session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def schedule_sweep(
    *, db_session: AsyncSession, now: datetime, fresh_since: datetime, provider_ids: Sequence[str]
) -> int:
    """The start-up sweep: every enabled provider of ``provider_ids`` becomes due now, except
    those any replica checked since ``fresh_since`` (or is checking): a rolling restart of
    several replicas then sweeps once, not once per replica."""
    if not provider_ids:
        return 0
    result = await db_session.execute(
        update(PS)
        .where(
            PS.is_enabled.is_(True),
            _among(db_session, provider_ids),
            or_(PS.last_check.is_(None), PS.last_check < fresh_since),
            _free(now),
            or_(PS.next_check_at.is_(None), PS.next_check_at > now),
        )
        .values(next_check_at=now)
    )
    await db_session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def next_due(
    *, db_session: AsyncSession, now: datetime, provider_ids: Collection[str], others: int = 0
) -> datetime | None:
    """The earliest due time of an unleased enabled provider among ``provider_ids`` (the
    scheduler sleeps until then); a never-checked provider is due at once. ``others`` as for
    ``claim_due``."""
    if not provider_ids:
        return None
    candidates = (
        select(PS.provider_id, PS.next_check_at)
        .where(PS.is_enabled.is_(True), PS.is_registered.is_(True), _free(now))
        .order_by(PS.next_check_at.asc().nulls_first(), PS.provider_id)
    )
    kept, _ = await _ours_first(db_session, candidates, frozenset(provider_ids), 1, others)
    if not kept:
        return None
    due: datetime = kept[0].next_check_at or now
    return due
