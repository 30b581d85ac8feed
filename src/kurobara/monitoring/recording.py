"""Recording completed checks in batches: one short transaction writes a batch of results —
counters and status, history rows, hourly rollups, transitions — in a fixed handful of
statements whatever the batch's size, then reads back what the dashboard rows show.

Checks hand their results to a ``BatchRecorder`` and wait for them to be written. It flushes
when a batch is full (``MAX_BATCH`` results), when its oldest result has waited ``MAX_DELAY``,
when nothing else is on its way (no check of this process is still on the network: a lone check,
a test's step, a manual "Test now", is written at once), or when asked to. The guarantees are
those of one check at a time: a provider stays leased until its result is written, so a crash
loses at most the unflushed batch, whose leases then expire and whose checks simply run again;
and a flush is one transaction, written whole or not at all.

The statements are built once, at import; a batch only binds its parameters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.background import nap
from kurobara.monitoring import claims, history, rules
from kurobara.monitoring.models import (
    BUCKET_COLUMNS,
    ProviderCheck,
    ProviderCheckHourly,
    ProviderStatus,
    ProviderTransition,
)
from kurobara.providers.base import HealthCheckResult

logger = logging.getLogger("kurobara.monitoring")

MAX_BATCH = 100
MAX_DELAY_SECONDS = 0.2

PS = ProviderStatus
_STATUS: Table = ProviderStatus.__table__  # type: ignore[assignment]
_HOURLY: Table = ProviderCheckHourly.__table__  # type: ignore[assignment]
_CHECKS: Table = ProviderCheck.__table__  # type: ignore[assignment]
_TRANSITIONS: Table = ProviderTransition.__table__  # type: ignore[assignment]
_COUNTERS = ("checks", "successes", "response_ms_sum", *BUCKET_COLUMNS)

# Each provider's row, write-locked first: PostgreSQL locks in provider order (two recorders
# never wait on each other in a cycle); on SQLite the UPDATE takes the write lock before the read.
_LOCK_PG = (
    select(PS.provider_id, PS.status_changed_at, *claims.RECORD_COLUMNS)
    .where(PS.provider_id.in_(bindparam("ids", expanding=True)))
    .order_by(PS.provider_id)
    .with_for_update()
)
_LOCK_SQLITE = (
    update(_STATUS)
    .where(_STATUS.c.provider_id.in_(bindparam("ids", expanding=True)))
    .values(updated_at=bindparam("now"))
    .returning(PS.provider_id, PS.status_changed_at, *claims.RECORD_COLUMNS)
)
_STORED = (
    "status", "consecutive_failures", "total_checks", "successful_checks", "uptime_percentage",
    "last_check", "response_time", "error_message", "error_kind", "http_status",
    "stage", "status_changed_at", "next_check_at", "lease_owner", "lease_expires_at", "updated_at",
    "search_failures", "search_failures_since", "last_search_failure_at",
)  # fmt: skip
_SAVE_STATUS = (
    update(_STATUS)
    .where(_STATUS.c.provider_id == bindparam("b_provider_id"))
    .values({name: bindparam(f"b_{name}") for name in _STORED})
)
# Core statements on the tables: the ORM's bulk path costs more per row than the write itself.
_ADD_TRANSITIONS = insert(_TRANSITIONS)
_ADD_CHECKS = insert(_CHECKS)


def _rollup_upsert(dialect_insert: Any) -> Any:
    stmt = dialect_insert(_HOURLY)
    return stmt.on_conflict_do_update(
        index_elements=["provider_id", "hour"],
        set_={name: _HOURLY.c[name] + stmt.excluded[name] for name in _COUNTERS},
    )


_ROLLUP_UPSERT = {
    "postgresql": _rollup_upsert(postgresql.insert),
    "sqlite": _rollup_upsert(sqlite.insert),
}


@dataclass(frozen=True)
class PendingCheck:
    """A completed check waiting to be written."""

    provider_id: str
    result: HealthCheckResult
    now: datetime
    owner: str
    trigger: str
    jitter_seconds: float = 0.0


@dataclass(frozen=True)
class Recorded:
    """What writing one check produced: the state machine's step (None: the provider's row is
    gone) and what the dashboard row shows right after it."""

    applied: rules.Applied | None
    uptime: dict[str, float | None]
    response_times: list[int | None]


@dataclass(frozen=True)
class Policy:
    """The scheduling settings a batch is written with."""

    default_interval: int
    retry_seconds: int
    down_minutes: int | None


async def record_batch(
    *,
    db_session: AsyncSession,
    checks: Sequence[PendingCheck],
    policy: Policy,
    user_interval: int | None,
    now: datetime,
) -> list[Recorded]:
    """Write ``checks`` in one transaction (several of one provider apply in order) and read
    back each provider's uptime windows and recent response times; one ``Recorded`` per check,
    in order."""
    dialect = db_session.get_bind().dialect.name
    await claims.relaxed_commit(db_session)
    ids = sorted({check.provider_id for check in checks})
    lock = _LOCK_PG if dialect == "postgresql" else _LOCK_SQLITE
    rows = {
        row.provider_id: row for row in await db_session.execute(lock, {"ids": ids, "now": now})
    }
    states = {pid: claims.state_of(row) for pid, row in rows.items()}
    passive = {pid: claims.search_failures_of(row) for pid, row in rows.items()}
    stored: dict[str, dict[str, Any]] = {}
    transitions: list[dict[str, Any]] = []
    history_rows: list[dict[str, Any]] = []
    hours: dict[tuple[str, datetime], dict[str, Any]] = {}
    applied_list: list[rules.Applied | None] = []
    for check in checks:
        row = rows.get(check.provider_id)
        if row is None:
            applied_list.append(None)
            continue
        result = check.result
        applied = rules.apply_result(
            states[check.provider_id],
            result,
            check.now,
            search_failures=rules.live_search_failures(passive[check.provider_id], check.now),
        )
        if result.ok:
            # A successful check is the only evidence that clears the failed searches.
            passive[check.provider_id] = rules.SearchFailures()
        states[check.provider_id] = applied.state
        applied_list.append(applied)
        before = stored.get(check.provider_id)
        values = claims.stored_values(applied, result, check.now)
        values.setdefault(
            "status_changed_at",
            before["status_changed_at"] if before else row.status_changed_at,
        )
        interval = rules.effective_interval(
            override=row.check_interval,
            user_intervals=[] if user_interval is None else [user_interval],
            default=policy.default_interval,
        )
        values["next_check_at"] = rules.next_check_at(
            applied.state,
            last_check=check.now,
            interval_minutes=interval,
            retry_seconds=policy.retry_seconds,
            down_minutes=policy.down_minutes,
            jitter_seconds=check.jitter_seconds,
        )
        lease = (before["lease_owner"], before["lease_expires_at"]) if before else (
            row.lease_owner, row.lease_expires_at)  # fmt: skip
        # A completed check ends "testing": its own lease, and one whose holder is overdue.
        if lease[0] == check.owner or rules.lease_overdue(lease[1], check.now):
            lease = (None, None)
        values.update(lease_owner=lease[0], lease_expires_at=lease[1], updated_at=now)
        seen = passive[check.provider_id]
        values.update(
            search_failures=seen.count,
            search_failures_since=seen.since,
            last_search_failure_at=seen.last,
        )
        stored[check.provider_id] = values
        if applied.transition is not None:
            transitions.append(
                {"provider_id": check.provider_id,
                 **claims.transition_values(row.provider_name, applied, result)}
            )  # fmt: skip
        history_rows.append(
            history.check_values(check.provider_id, result, check.now, check.trigger)
        )
        _fold(hours, check.provider_id, result, check.now)
    if stored:
        await db_session.execute(
            _SAVE_STATUS,
            [
                {"b_provider_id": pid, **{f"b_{k}": v[k] for k in _STORED}}
                for pid, v in stored.items()
            ],
        )
        await db_session.execute(_ADD_CHECKS, history_rows)
        await db_session.execute(_ROLLUP_UPSERT[dialect], list(hours.values()))
        if transitions:
            await db_session.execute(_ADD_TRANSITIONS, transitions)
    await db_session.commit()
    shown = list(stored)
    uptimes = await history.uptime_windows(db_session=db_session, now=now, provider_ids=shown)
    recent = await recent_response_times(db_session=db_session, provider_ids=shown)
    await db_session.commit()
    empty = dict.fromkeys(rules.WINDOWS)
    return [
        Recorded(
            applied=applied,
            uptime=uptimes.get(check.provider_id, empty),
            response_times=recent.get(check.provider_id, []),
        )
        for check, applied in zip(checks, applied_list, strict=True)
    ]


def _fold(
    hours: dict[tuple[str, datetime], dict[str, Any]],
    provider_id: str,
    result: HealthCheckResult,
    now: datetime,
) -> None:
    """Add one check to its hour's counters (summed within the batch: one upsert per hour)."""
    hour = rules.hour_floor(now)
    counters = hours.get((provider_id, hour))
    if counters is None:
        counters = hours[(provider_id, hour)] = {
            "provider_id": provider_id, "hour": hour, **dict.fromkeys(_COUNTERS, 0)
        }  # fmt: skip
    counters["checks"] += 1
    # Response times of successful checks only: a timeout says nothing about speed.
    if result.ok:
        counters["successes"] += 1
        if result.response_ms is not None:
            counters["response_ms_sum"] += result.response_ms
            counters[BUCKET_COLUMNS[rules.bucket_index(result.response_ms)]] += 1


# A read-back statement has one of these many parts (the ids padded by repeating the last):
# a few shapes, each built once, its ids bound as parameters ``pid0``, ``pid1``, ...
_RECENT_SHAPES = (1, 4, 16, 50)


def _recent_part(index: int) -> Any:
    return (
        select(
            ProviderCheck.provider_id, ProviderCheck.checked_at, ProviderCheck.id,
            ProviderCheck.ok, ProviderCheck.response_time,
        )
        .where(ProviderCheck.provider_id == bindparam(f"pid{index}"))
        .order_by(ProviderCheck.checked_at.desc(), ProviderCheck.id.desc())
        .limit(bindparam("limit"))
        .subquery()
        .select()
    )  # fmt: skip


def _recent_statement(size: int) -> Any:
    parts = [_recent_part(index) for index in range(size)]
    return parts[0] if size == 1 else union_all(*parts)


_RECENT = {size: _recent_statement(size) for size in _RECENT_SHAPES}


async def recent_response_times(
    *, db_session: AsyncSession, provider_ids: Sequence[str], limit: int = rules.RECENT_CHECKS
) -> dict[str, list[int | None]]:
    """Each provider's last ``limit`` response times, oldest first (None: a failed check): the
    row's sparkline. Core rows from the ``(provider_id, checked_at)`` index, no ORM objects."""
    found: dict[str, dict[int, tuple[Any, int, int | None]]] = {}
    widest = _RECENT_SHAPES[-1]
    for start in range(0, len(provider_ids), widest):
        chunk = list(provider_ids[start : start + widest])
        if not chunk:
            continue
        size = next(shape for shape in _RECENT_SHAPES if shape >= len(chunk))
        chunk += [chunk[-1]] * (size - len(chunk))
        params: dict[str, Any] = {f"pid{index}": pid for index, pid in enumerate(chunk)}
        params["limit"] = limit
        rows = (await db_session.execute(_RECENT[size], params)).all()
        for pid, at, check_id, ok, ms in rows:
            found.setdefault(pid, {})[check_id] = (at, check_id, ms if ok else None)
    return {pid: [ms for _, _, ms in sorted(rows.values())] for pid, rows in found.items()}


Flush = Callable[[list[PendingCheck]], Awaitable[list[Recorded]]]


@dataclass
class _Waiting:
    check: PendingCheck
    future: asyncio.Future[Recorded]
    since: float = field(default=0.0)


class BatchRecorder:
    """Collects completed checks and writes them in batches through ``flush`` (one batch at a
    time). ``quiet`` says whether no further result is on its way soon (then waiting for more
    would only add latency)."""

    def __init__(
        self,
        flush: Flush,
        *,
        quiet: Callable[[], bool],
        max_batch: int = MAX_BATCH,
        max_delay: float = MAX_DELAY_SECONDS,
    ) -> None:
        self._flush = flush
        self.quiet = quiet
        self.max_batch = max_batch
        self.max_delay = max_delay
        self._waiting: list[_Waiting] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.flushed = asyncio.Event()

    @property
    def pending(self) -> int:
        return len(self._waiting)

    async def record(self, check: PendingCheck, *, now: bool = False) -> Recorded:
        """Queue ``check`` and wait until it is written (``now``: flush without waiting for a
        fuller batch). Cancelling the wait before the flush takes it leaves it unwritten."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(check, loop.create_future(), loop.time())
        self._waiting.append(waiting)
        if now or len(self._waiting) >= self.max_batch or self.quiet():
            self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="monitor-recorder")
        return await waiting.future

    def poke(self) -> None:
        """Something changed what ``quiet`` says: flush now if it says so."""
        if self._waiting and self.quiet():
            self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            left = self._waiting[0].since + self.max_delay - loop.time()
            if left > 0 and not self._wake.is_set():
                await nap(self._wake, left)
            self._wake.clear()
            batch = [w for w in self._waiting[: self.max_batch] if not w.future.done()]
            del self._waiting[: self.max_batch]
            if len(self._waiting) >= self.max_batch or (self._waiting and self.quiet()):
                self._wake.set()
            if not batch:
                continue
            try:
                recorded = await self._flush([w.check for w in batch])
            except asyncio.CancelledError:
                for waiting in batch + self._waiting:
                    waiting.future.cancel()
                self._waiting.clear()
                raise
            except Exception as exc:
                logger.exception("recording %d checks failed", len(batch))
                for waiting in batch:
                    if not waiting.future.done():
                        waiting.future.set_exception(exc)
            else:
                for waiting, outcome in zip(batch, recorded, strict=True):
                    if not waiting.future.done():
                        waiting.future.set_result(outcome)
            self.flushed.set()
            self.flushed.clear()

    async def aclose(self) -> None:
        """Stop: what is queued is not written (its checks run again when their leases end)."""
        for waiting in self._waiting:
            waiting.future.cancel()
        self._waiting.clear()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
