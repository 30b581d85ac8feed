"""The worker's side of library updates: lease sources with pending items, resolve items with an
outcome, skip a provider's pending items, pause a provider after a 429, finish runs.

The lease is on the *source* (``library_update_sources``), not on a run's item: a source wanted
by two runs at once (a user's "Update now" during the scheduled run) is fetched once, and the
one outcome resolves the pending items of both. As in ``monitoring/claims.py``, PostgreSQL picks
candidates with ``FOR UPDATE SKIP LOCKED`` so replicas never wait on each other, and SQLite
(one writer) keeps a row only when its conditional UPDATE's row count says it won. A replica that
dies holding leases loses nothing: the items stay ``pending`` and the lease expires.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from kurobara.monitoring.history import dialect_insert
from kurobara.updates.models import ProviderPause, SourceUpdate, UpdateItem, UpdateRun

SU = SourceUpdate
PENDING = "pending"
DONE = "done"
RUNNING = "running"
# Error messages are kept short: they are shown in a table cell, not a log.
MESSAGE_LIMIT = 500
# Ids per IN list: well under SQLite's bound-parameter limit.
CHUNK = 500


@dataclass(frozen=True)
class Outcome:
    outcome: str
    new_chapter_ids: Sequence[uuid.UUID] = ()
    reason: str | None = None
    error_kind: str | None = None
    error_message: str | None = None

    @property
    def new_chapters(self) -> int:
        return len(self.new_chapter_ids)


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(SU.lease_expires_at.is_(None), SU.lease_expires_at <= now)


def _has_pending() -> ColumnElement[bool]:
    return exists().where(UpdateItem.source_id == SU.source_id, UpdateItem.status == PENDING)


async def pending_providers(*, db_session: AsyncSession, now: datetime) -> list[str]:
    """Providers with pending items, less those paused after a 429."""
    paused = select(ProviderPause.provider_id).where(ProviderPause.paused_until > now)
    rows = await db_session.scalars(
        select(UpdateItem.provider_id)
        .where(UpdateItem.status == PENDING, UpdateItem.provider_id.not_in(paused))
        .distinct()
        .order_by(UpdateItem.provider_id)
    )
    return list(rows.all())


async def paused_providers(*, db_session: AsyncSession, now: datetime) -> set[str]:
    rows = await db_session.scalars(
        select(ProviderPause.provider_id).where(ProviderPause.paused_until > now)
    )
    return set(rows.all())


async def claim(
    *,
    db_session: AsyncSession,
    provider_id: str,
    owner: str,
    now: datetime,
    limit: int,
    lease_until: datetime,
) -> list[uuid.UUID]:
    """Lease up to ``limit`` sources of ``provider_id`` that have pending items, least recently
    updated first; the source ids won. One transaction, committed."""
    if limit <= 0:
        return []
    candidates = (
        select(SU.source_id)
        .where(SU.provider_id == provider_id, _free(now), _has_pending())
        .order_by(SU.outcome_at.asc().nulls_first(), SU.source_id)
        .limit(limit)
    )
    won: list[uuid.UUID] = []
    lease = {"lease_owner": owner, "lease_expires_at": lease_until}
    if db_session.get_bind().dialect.name == "postgresql":
        ids = list((await db_session.scalars(candidates.with_for_update(skip_locked=True))).all())
        if ids:
            # Checked again in this statement (a fresh snapshot): a worker that finished one
            # of these sources since the SELECT began must not have it refreshed twice.
            won = list(
                (
                    await db_session.scalars(
                        update(SU)
                        .where(SU.source_id.in_(ids), _has_pending())
                        .values(**lease)
                        .returning(SU.source_id)
                    )
                ).all()
            )
    else:
        for source_id in (await db_session.scalars(candidates)).all():
            # Free *and* still wanted: another worker may have finished it since the SELECT.
            result = await db_session.execute(
                update(SU)
                .where(SU.source_id == source_id, _free(now), _has_pending())
                .values(**lease)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                won.append(source_id)
    await db_session.commit()
    return won


def _item_values(outcome: Outcome, now: datetime) -> dict[str, Any]:
    return {
        "status": DONE,
        "outcome": outcome.outcome,
        "new_chapters": outcome.new_chapters,
        "reason": outcome.reason,
        "error_kind": outcome.error_kind,
        "error_message": (outcome.error_message or "")[:MESSAGE_LIMIT] or None,
        "done_at": now,
    }


def _source_values(outcome: Outcome, now: datetime) -> dict[str, Any]:
    values = _item_values(outcome, now)
    del values["status"], values["done_at"]
    return {**values, "outcome_at": now}


async def complete(
    *,
    db_session: AsyncSession,
    source_id: uuid.UUID,
    owner: str,
    outcome: Outcome,
    now: datetime,
) -> list[uuid.UUID]:
    """Record a source's outcome: its pending items (of every running run) are done, the first
    of them listing the new chapters, the lease is released if still ours, and runs with
    nothing left are finished. The ids of the runs this finished; committed."""
    pending = (
        await db_session.execute(
            select(UpdateItem.id, UpdateItem.run_id)
            .where(UpdateItem.source_id == source_id, UpdateItem.status == PENDING)
            .order_by(UpdateItem.id)
        )
    ).all()
    values = _item_values(outcome, now)
    if pending:
        first, *others = pending
        ids = [str(i) for i in outcome.new_chapter_ids] or None
        await db_session.execute(
            update(UpdateItem)
            .where(UpdateItem.id == first.id, UpdateItem.status == PENDING)
            .values(**values, new_chapter_ids=ids)
        )
        if others:
            await db_session.execute(
                update(UpdateItem)
                .where(UpdateItem.id.in_([o.id for o in others]), UpdateItem.status == PENDING)
                .values(**values)
            )
    source = _source_values(outcome, now)
    run_id = pending[0].run_id if pending else None
    await db_session.execute(
        update(SU).where(SU.source_id == source_id).values(**source, run_id=run_id)
    )
    await db_session.execute(
        update(SU)
        .where(SU.source_id == source_id, SU.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )
    finished = await finish_runs(
        db_session=db_session, run_ids={row.run_id for row in pending}, now=now
    )
    await db_session.commit()
    return finished


async def skip_provider(
    *,
    db_session: AsyncSession,
    provider_id: str,
    reason: str,
    error_kind: str | None,
    now: datetime,
) -> int:
    """The monitor says not to ask ``provider_id``: every pending item of it whose source no one
    is refreshing right now is done as ``skipped``. The number skipped; committed."""
    outcome = Outcome(outcome="skipped", reason=reason, error_kind=error_kind)
    leased = select(SU.source_id).where(SU.provider_id == provider_id, ~_free(now))
    rows = (
        await db_session.execute(
            update(UpdateItem)
            .where(
                UpdateItem.provider_id == provider_id,
                UpdateItem.status == PENDING,
                UpdateItem.source_id.not_in(leased),
            )
            .values(**_item_values(outcome, now))
            .returning(UpdateItem.run_id, UpdateItem.source_id)
        )
    ).all()
    if not rows:
        await db_session.commit()
        return 0
    sources = sorted({row.source_id for row in rows})
    for start in range(0, len(sources), CHUNK):
        await db_session.execute(
            update(SU)
            .where(SU.source_id.in_(sources[start : start + CHUNK]))
            .values(**_source_values(outcome, now))
        )
    await finish_runs(db_session=db_session, run_ids={row.run_id for row in rows}, now=now)
    await db_session.commit()
    return len(rows)


async def release(*, db_session: AsyncSession, source_id: uuid.UUID, owner: str) -> None:
    """Hand a source back without an outcome (a 429): its items stay pending."""
    await db_session.execute(
        update(SU)
        .where(SU.source_id == source_id, SU.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )
    await db_session.commit()


async def pause_provider(*, db_session: AsyncSession, provider_id: str, until: datetime) -> None:
    """No replica starts updates of ``provider_id`` before ``until`` (a later pause wins)."""
    stmt = dialect_insert(db_session, ProviderPause.__table__).values(
        provider_id=provider_id, paused_until=until
    )
    await db_session.execute(
        stmt.on_conflict_do_update(
            index_elements=["provider_id"],
            set_={"paused_until": until},
            where=ProviderPause.__table__.c.paused_until < until,
        )
    )
    await db_session.commit()


async def paused_until(*, db_session: AsyncSession, provider_id: str) -> datetime | None:
    value: datetime | None = await db_session.scalar(
        select(ProviderPause.paused_until).where(ProviderPause.provider_id == provider_id)
    )
    return value


async def clear_expired_pauses(*, db_session: AsyncSession, now: datetime) -> None:
    await db_session.execute(delete(ProviderPause).where(ProviderPause.paused_until <= now))
    await db_session.commit()


async def finish_runs(
    *, db_session: AsyncSession, run_ids: set[uuid.UUID] | None, now: datetime
) -> list[uuid.UUID]:
    """Mark done the running runs (of ``run_ids``, or all) with no pending item left, freeing
    their ``active_key`` so the next request starts a new run. Not committed."""
    left = exists().where(UpdateItem.run_id == UpdateRun.id, UpdateItem.status == PENDING)
    where = [UpdateRun.status == RUNNING, ~left]
    if run_ids is not None:
        if not run_ids:
            return []
        where.append(UpdateRun.id.in_(run_ids))
    if db_session.get_bind().dialect.name == "postgresql":
        # Two workers finishing a run's last two items each see the other's item still pending
        # (neither has committed): the run would never finish. Locking the run rows first makes
        # the second wait, and its check (a new snapshot) then sees the first one's item done.
        await db_session.execute(
            select(UpdateRun.id)
            .where(*where[:1], *where[2:])
            .order_by(UpdateRun.id)
            .with_for_update()
        )
    rows = await db_session.scalars(
        update(UpdateRun)
        .where(and_(*where))
        .values(status=DONE, finished_at=now, active_key=None)
        .returning(UpdateRun.id)
    )
    return list(rows.all())


async def release_leases(*, db_session: AsyncSession, owner: str) -> int:
    """Hand back every lease of ``owner`` (on stop); their items stay pending for the next."""
    result = await db_session.execute(
        update(SU).where(SU.lease_owner == owner).values(lease_owner=None, lease_expires_at=None)
    )
    await db_session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
