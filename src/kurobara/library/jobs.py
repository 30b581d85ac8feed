"""Favorites import jobs: an import that needs more provider fetches than an answer can wait
for is stored as a job, and worked off in the background by whichever process claims it.

A job is rows in the database (``favorites_import_job`` and one ``favorites_import_item`` per
item), so it outlives the request that made it, and its progress reads the same from every
replica. The worker is a loop around a step: ``step()`` claims the job that waited longest with
a lease (a conditional UPDATE that checks the row count; several workers never take one job at
once), fetches its next chunk of pending items with no transaction open, then records the
chunk — favorites, item outcomes, counters, the lease handed back — in one short transaction.
Jobs take turns a chunk at a time, so one user's 50 000-item file does not hold up another's.
A process that dies mid-chunk loses only that chunk's work: its lease expires and the chunk
runs again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import case, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.background import tick_until_stopped
from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.db.types import utcnow
from kurobara.library import fetching, rules, transfer
from kurobara.library.models import ImportJob, ImportJobItem
from kurobara.library.schemas import ImportItem, ImportItemResult, ImportReport
from kurobara.providers.registry import ProviderRegistry

logger = logging.getLogger(__name__)

# Pending items one step fetches (concurrently, within each provider's limits).
CHUNK = 20
# How long a claimed chunk may take before another worker may take the job over.
LEASE = timedelta(minutes=15)
# Longest nap of an idle worker: bounds how late it sees a job another replica queued.
IDLE_POLL_SECONDS = 5.0
ERROR_BACKOFF_SECONDS = 5.0
# Finished jobs (and their reports) are kept this long.
RETENTION = timedelta(days=7)
QUEUED, RUNNING, DONE = "queued", "running", "done"
ROWS_PER_INSERT = 500


@dataclass(frozen=True)
class JobView:
    job: ImportJob
    items: list[ImportItemResult]


def _free(now: datetime) -> Any:
    return or_(ImportJob.lease_expires_at.is_(None), ImportJob.lease_expires_at <= now)


async def start_import(
    *,
    db_session: AsyncSession,
    worker: ImportWorker,
    user_id: uuid.UUID,
    items: Sequence[ImportItem],
    background: bool = False,
) -> ImportReport | JobView:
    """Match the file against the catalog; answer inline when few provider fetches remain
    (``KUROBARA_FAVORITES_IMPORT_INLINE_MAX``), else queue a job and return it."""
    settings = worker.settings
    plan = await transfer.plan_import(db_session=db_session, items=items)
    inline_max = settings.favorites_import_inline_max
    if rules.runs_inline(len(plan.pending), inline_max=inline_max, background=background):
        return await transfer.import_inline(
            db_session=db_session,
            db=worker.db,
            registry=worker.registry,
            user_id=user_id,
            items=items,
            plan=plan,
            per_provider=settings.favorites_import_concurrency,
        )
    view = await create_job(db_session=db_session, user_id=user_id, items=items, plan=plan)
    worker.wake()
    return view


async def create_job(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    items: Sequence[ImportItem],
    plan: transfer.ImportPlan,
) -> JobView:
    """Favorite what the catalog already has now, and store the rest as a queued job."""
    decided = {i: item for i, item in enumerate(items) if i not in plan.pending}
    results = await transfer.record_outcomes(
        db_session=db_session, user_id=user_id, items=decided,
        found=plan.found, errors=plan.errors,
    )  # fmt: skip
    done = transfer.report(results)
    now = utcnow()
    job = ImportJob(
        id=uuid.uuid4(),
        user_id=user_id,
        status=QUEUED if plan.pending else DONE,
        total=len(items),
        processed=len(results),
        imported=done.imported,
        already_present=done.already_present,
        failed=done.failed,
        finished_at=None if plan.pending else now,
    )
    db_session.add(job)
    await db_session.flush()
    rows = [_outcome_row(job.id, r) for r in results] + [
        {"job_id": job.id, "index": i, "title": item.title, "status": None, "manga_id": None,
         "error": None, "payload": item.model_dump(mode="json")}
        for i, item in plan.pending.items()
    ]  # fmt: skip
    for start in range(0, len(rows), ROWS_PER_INSERT):
        await db_session.execute(insert(ImportJobItem), rows[start : start + ROWS_PER_INSERT])
    await db_session.commit()
    logger.info(
        "favorites import job=%s user=%s items=%d pending=%d",
        job.id,
        user_id,
        len(items),
        len(plan.pending),
    )
    return JobView(job=job, items=done.items)


def _outcome_row(job_id: uuid.UUID, result: ImportItemResult) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "index": result.index,
        "title": result.title,
        "status": result.status,
        "manga_id": result.manga_id,
        "error": result.error,
        "payload": None,
    }


async def get_job(
    *, db_session: AsyncSession, user_id: uuid.UUID, job_id: uuid.UUID
) -> JobView | None:
    """The user's job with the outcome of every item decided so far (another user's: None)."""
    job = await db_session.scalar(
        select(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    if job is None:
        return None
    rows = await db_session.execute(
        select(ImportJobItem)
        .where(ImportJobItem.job_id == job_id, ImportJobItem.status.is_not(None))
        .order_by(ImportJobItem.index)
    )
    items = [
        ImportItemResult(
            index=row.index, title=row.title, manga_id=row.manga_id,
            status=row.status, error=row.error,
        )
        for row in rows.scalars()
    ]  # fmt: skip
    return JobView(job=job, items=items)


async def claim_job(*, db_session: AsyncSession, owner: str, now: datetime) -> ImportJob | None:
    """Lease the unfinished job that progressed least recently; None when there is none free."""
    candidates = await db_session.scalars(
        select(ImportJob.id)
        .where(ImportJob.status.in_((QUEUED, RUNNING)), _free(now))
        .order_by(ImportJob.updated_at, ImportJob.id)
        .limit(5)
    )
    for job_id in list(candidates):
        result = await db_session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.status.in_((QUEUED, RUNNING)), _free(now))
            .values(lease_owner=owner, lease_expires_at=now + LEASE, status=RUNNING)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            job = await db_session.get(ImportJob, job_id, populate_existing=True)
            await db_session.commit()
            return job
    await db_session.commit()
    return None


async def run_chunk(
    *, db: Database, registry: ProviderRegistry, job: ImportJob, owner: str, per_provider: int
) -> int:
    """Fetch and record the job's next pending items; how many were recorded (0 when the
    lease was lost meanwhile and nothing was written)."""
    async with db.session() as session:
        rows = (
            await session.scalars(
                select(ImportJobItem)
                .where(ImportJobItem.job_id == job.id, ImportJobItem.status.is_(None))
                .order_by(ImportJobItem.index)
                .limit(CHUNK)
            )
        ).all()
        await session.commit()
    items = {row.index: ImportItem.model_validate(row.payload) for row in rows}
    fetched = await fetching.fetch_missing(
        db=db, registry=registry, items=items, per_provider=per_provider
    )
    async with db.session() as session:
        return await _record_chunk(session, job, owner, items, fetched)


async def _record_chunk(
    db_session: AsyncSession,
    job: ImportJob,
    owner: str,
    items: dict[int, ImportItem],
    fetched: dict[int, fetching.Fetched],
) -> int:
    found = {i: f.manga_id for i, f in fetched.items() if f.manga_id}
    errors = {i: f.error for i, f in fetched.items() if f.error}
    done = transfer.report(
        await transfer.record_outcomes(
            db_session=db_session, user_id=job.user_id, items=items, found=found, errors=errors
        )
    )
    for result in done.items:
        await db_session.execute(
            update(ImportJobItem)
            .where(ImportJobItem.job_id == job.id, ImportJobItem.index == result.index)
            .values(status=result.status, manga_id=result.manga_id, error=result.error,
                    payload=None)
        )  # fmt: skip
    now = utcnow()
    processed = ImportJob.processed + len(done.items)
    finished = processed >= ImportJob.total
    won = await db_session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id, ImportJob.lease_owner == owner)
        .values(
            processed=processed,
            imported=ImportJob.imported + done.imported,
            already_present=ImportJob.already_present + done.already_present,
            failed=ImportJob.failed + done.failed,
            status=case((finished, DONE), else_=RUNNING),
            finished_at=case((finished, now), else_=None),
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        await db_session.rollback()
        logger.warning("favorites import job=%s lease lost; chunk dropped", job.id)
        return 0
    await db_session.commit()
    return len(done.items)


async def release_leases(*, db_session: AsyncSession, owner: str) -> None:
    await db_session.execute(
        update(ImportJob)
        .where(ImportJob.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )
    await db_session.commit()


async def prune(*, db_session: AsyncSession, now: datetime) -> int:
    """Forget finished jobs older than ``RETENTION`` (their items go with them)."""
    result = await db_session.execute(
        delete(ImportJob).where(ImportJob.status == DONE, ImportJob.finished_at < now - RETENTION)
    )
    await db_session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class ImportWorker:
    """The component that works off import jobs: ``start()``/``stop()`` around a loop of
    ``step()``. Every web process runs one unless ``KUROBARA_FAVORITES_IMPORT_WORKER=false``."""

    def __init__(self, *, db: Database, registry: ProviderRegistry, settings: Settings) -> None:
        self.db = db
        self.registry = registry
        self.settings = settings
        self.owner = f"imports-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_prune: datetime | None = None

    def wake(self) -> None:
        self._wake.set()

    async def step(self) -> bool:
        """One unit: claim a job, fetch and record its next chunk. False when idle."""
        now = utcnow()
        if self._next_prune is None or now >= self._next_prune:
            self._next_prune = now + timedelta(hours=1)
            async with self.db.session() as session:
                await prune(db_session=session, now=now)
        async with self.db.session() as session:
            job = await claim_job(db_session=session, owner=self.owner, now=now)
        if job is None:
            return False
        await run_chunk(
            db=self.db,
            registry=self.registry,
            job=job,
            owner=self.owner,
            per_provider=self.settings.favorites_import_concurrency,
        )
        return True

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name="favorites-import-worker")

    async def stop(self) -> None:
        """Stop mid-chunk if need be, and hand the lease back so another worker resumes."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        async with self.db.session() as session:
            await release_leases(db_session=session, owner=self.owner)

    async def _loop(self) -> None:
        await tick_until_stopped(
            self._stopping, self._wake, self.step,
            idle_seconds=IDLE_POLL_SECONDS, error_backoff_seconds=ERROR_BACKOFF_SECONDS,
            logger=logger, what="favorites import",
        )  # fmt: skip


async def start_import_worker(app: FastAPI, stack: AsyncExitStack) -> None:
    """Wire the worker into the app's lifespan (every replica may run one)."""
    state = app.state
    worker = ImportWorker(db=state.db, registry=state.registry, settings=state.settings)
    state.import_worker = worker
    if state.settings.favorites_import_worker:
        await worker.start()
        stack.push_async_callback(worker.stop)
