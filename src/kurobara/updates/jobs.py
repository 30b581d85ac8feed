"""The library updater: one component with ``start()``/``stop()``, beside the monitor (run by
``serve`` in-process and by ``kurobara monitor``; ``KUROBARA_LIBRARY_UPDATES_ENABLED=false``
or ``KUROBARA_MONITOR_ENABLED=false`` leaves it out of a replica).

Its loop is ``while not stopping: await tick()``. A tick starts the scheduled run when due,
starts a run for each provider the monitor saw come back (down -> active), asks the monitor
about every provider with pending work (a down or disabled one has its items ``skipped``
without a request), and leases sources up to the free slots, in total and per provider. Each
refresh is ``reading.service.refresh_source_chapters`` (the one place chapter lists are
fetched); a 429 pauses that provider's updates for its ``Retry-After`` and hands the source
back, it does not fail it. ``step()`` is one tick that then waits for its refreshes: what the
tests and the CLI call.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from kurobara.background import tick_until_stopped
from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.downloads import service as downloads_service
from kurobara.monitoring.checker import CheckReport, replica_id
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.monitoring.models import ProviderTransition
from kurobara.providers.registry import ProviderRegistry
from kurobara.reading import service as reading_service
from kurobara.updates import claims, rules, service
from kurobara.updates.notifications import UpdateNotifier

logger = logging.getLogger("kurobara.updates")

# Longest nap of an idle updater: bounds how late it sees a run another replica started.
IDLE_POLL_SECONDS = 5.0
ERROR_BACKOFF_SECONDS = 5.0
PROVIDERS_TTL = 2.0
WRITE_SLOTS = 10
# Recoveries older than this when the updater starts are left to the next scheduled run.
RECOVERY_WINDOW = timedelta(hours=1)


class LibraryUpdater:
    def __init__(
        self,
        *,
        db: Database,
        registry: ProviderRegistry,
        settings: Settings,
        clock: Clock | None = None,
        owner: str | None = None,
        notifier: UpdateNotifier | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.owner = owner or replica_id()
        self.notifier = notifier or UpdateNotifier(db=db, clock=self.clock)
        self.concurrency = settings.library_update_concurrency
        self.per_provider = settings.library_update_provider_concurrency
        self._running: dict[asyncio.Task[None], str] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._seen_transition = 0
        # (monotonic time, provider ids with pending work): see _providers().
        self._pending: tuple[float, list[str]] | None = None
        # SQLite takes one writer at a time: queueing our writes here is cheaper than letting
        # them collide in SQLite's busy handler (the monitor's checker does the same).
        self.write_slots = asyncio.Semaphore(1 if db.dialect == "sqlite" else WRITE_SLOTS)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._loop(), name="library-updater"),
            asyncio.create_task(self.notifier.run(self._stopping), name="update-notifier"),
        ]
        logger.info("library updater starting owner=%s", self.owner)

    async def stop(self) -> None:
        """Cancel refreshes in flight and hand their leases back: their items stay pending and
        the next tick (here or on another replica) takes them."""
        self._stopping.set()
        self._wake.set()
        self.notifier.wake.set()
        for task in [*self._tasks, *self._running]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._running, return_exceptions=True)
        self._tasks = []
        async with self.db.session() as session:
            await claims.release_leases(db_session=session, owner=self.owner)
        logger.info("library updater stopped owner=%s", self.owner)

    def wake(self) -> None:
        """Something new to do (a run was started): look for it now."""
        self._pending = None
        self._wake.set()

    def on_check(self, report: CheckReport) -> None:
        """Checker listener: a provider that came back (down -> active) is a reason to look
        for its skipped manga now, not at the next poll."""
        transition = report.applied.transition if report.applied else None
        if transition == ("down", "active"):
            self.wake()

    # -- one unit of work -------------------------------------------------------------------

    async def tick(self) -> int:
        """Start due runs, skip what the monitor rules out, start refreshes up to the free
        slots; the number of refreshes started."""
        return len(await self._tick())

    async def step(self) -> int:
        """One tick, waiting for the refreshes it started; the number it ran."""
        self._pending = None
        started = await self._tick()
        await asyncio.gather(*started, return_exceptions=True)
        return len(started)

    async def drain(self, *, limit: int = 100_000) -> int:
        """Step until nothing is left to start (the CLI's foreground run); the refreshes run."""
        total = 0
        for _ in range(limit):
            ran = await self.step()
            if ran == 0:
                break
            total += ran
        return total

    async def _tick(self) -> list[asyncio.Task[None]]:
        await self.start_scheduled()
        await self.start_recoveries()
        return await self._start_due()

    async def start_scheduled(self) -> None:
        """Start the scheduled run of everyone's library when it is due. The slot's due time
        names it (``dedupe_key``), so replicas noticing it together start one run."""
        now = self.clock.now()
        async with self.db.session() as session:
            schedule = await service.get_schedule(
                db_session=session, settings=self.settings, now=now
            )
            if schedule.next_run_at > now:
                return
            slot = schedule.last_scheduled_at
            key = f"scheduled:{slot.isoformat() if slot else 'first'}"
            started = await service.start_run(
                db_session=session,
                trigger="scheduled",
                scope="all",
                user_id=None,
                now=now,
                skip_completed=schedule.skip_completed,
                active="all",
                dedupe_key=key,
            )
        if started is not None and not started.joined:
            logger.info(
                "scheduled library update run=%s sources=%d", started.run.id, started.run.total
            )

    async def start_recoveries(self) -> None:
        """For each provider the monitor recorded coming back (down -> active), a run of its
        sources that its outage skipped: one run per transition, whichever replica sees it."""
        now = self.clock.now()
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(ProviderTransition.id, ProviderTransition.provider_id)
                    .where(
                        ProviderTransition.id > self._seen_transition,
                        ProviderTransition.from_status == "down",
                        ProviderTransition.to_status == "active",
                        ProviderTransition.at >= now - RECOVERY_WINDOW,
                    )
                    .order_by(ProviderTransition.id)
                )
            ).all()
            schedule = await service.get_schedule(
                db_session=session, settings=self.settings, now=now
            )
            for row in rows:
                self._seen_transition = max(self._seen_transition, row.id)
                started = await service.start_run(
                    db_session=session,
                    trigger="provider_up",
                    scope="all",
                    user_id=None,
                    now=now,
                    skip_completed=schedule.skip_completed,
                    provider_id=row.provider_id,
                    active=f"provider:{row.provider_id}:{row.id}",
                    dedupe_key=f"up:{row.id}",
                )
                if started is not None and not started.joined:
                    logger.info(
                        "provider back provider=%s run=%s sources=%d",
                        row.provider_id,
                        started.run.id,
                        started.run.total,
                    )

    async def _start_due(self) -> list[asyncio.Task[None]]:
        now = self.clock.now()
        started: list[asyncio.Task[None]] = []
        async with self.write_slots, self.db.session() as session:
            providers = await self._providers(session, now)
            states = await reading_service.provider_states(
                db_session=session, provider_ids=providers
            )
            await session.commit()
            busy = Counter(self._running.values())
            for provider_id in providers:
                state = states.get(provider_id)
                reason = reading_service.skip_reason(
                    self.registry, provider_id, state, skip_down=True
                )
                if reason is not None:
                    kind = state.error_kind if state is not None and reason == "down" else None
                    await claims.skip_provider(
                        db_session=session,
                        provider_id=provider_id,
                        reason=rules.skip_reason(reason),
                        error_kind=kind,
                        now=now,
                    )
                    self._forget(provider_id)
                    continue
                free = min(
                    self.per_provider - busy[provider_id],
                    self.concurrency - len(self._running),
                )
                won = await claims.claim(
                    db_session=session,
                    provider_id=provider_id,
                    owner=self.owner,
                    now=now,
                    limit=free,
                    lease_until=rules.lease_expiry(now, timeout=self.settings.check_timeout),
                )
                if not won and free > 0 and busy[provider_id] == 0:
                    self._forget(provider_id)  # nothing left (or all leased elsewhere)
                for source_id in won:
                    task = asyncio.create_task(self._refresh(source_id, provider_id))
                    self._running[task] = provider_id
                    task.add_done_callback(self._finished)
                    started.append(task)
        return started

    async def _providers(self, session: Any, now: Any) -> list[str]:
        """Providers with pending work, less the paused ones. The list (a scan of the pending
        items) is reused for PROVIDERS_TTL between the passes a finishing refresh triggers, one
        per refresh; a started run or a recovery (``wake``) drops it. Pauses are read fresh."""
        clock = time.monotonic()
        if self._pending is None or clock - self._pending[0] > PROVIDERS_TTL:
            listed = await claims.pending_providers(db_session=session, now=now)
            self._pending = (clock, listed)
            return listed
        paused = await claims.paused_providers(db_session=session, now=now)
        return [p for p in self._pending[1] if p not in paused]

    def _forget(self, provider_id: str) -> None:
        if self._pending is not None:
            stamp, listed = self._pending
            self._pending = (stamp, [p for p in listed if p != provider_id])

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            logger.error("library refresh crashed", exc_info=task.exception())

    async def _refresh(self, source_id: uuid.UUID, provider_id: str) -> None:
        async with self.db.session() as session:
            try:
                result = await reading_service.refresh_source_chapters(
                    db_session=session,
                    registry=self.registry,
                    source_id=source_id,
                    clock=self.clock,
                )
            except reading_service.SourceNotFound:
                return  # the manga left the catalog: its items went with it
            except OperationalError as exc:
                # SQLite under many writers: a transaction that read before writing may be
                # refused ("database is locked"). Transient: hand the source back for the next
                # pass instead of holding its lease until it expires.
                await session.rollback()
                await claims.release(db_session=session, source_id=source_id, owner=self.owner)
                logger.warning("refresh deferred provider=%s source=%s: %s", provider_id,
                               source_id, exc.orig)  # fmt: skip
                return
            now = self.clock.now()
            if result.error_kind == "rate_limited":
                until = rules.pause_until(now, result.retry_after)
                await claims.pause_provider(
                    db_session=session, provider_id=provider_id, until=until
                )
                await claims.release(db_session=session, source_id=source_id, owner=self.owner)
                logger.info(
                    "rate limited provider=%s paused until %s", provider_id, until.isoformat()
                )
                return
            outcome = outcome_of(result)
            async with self.write_slots:
                finished = await claims.complete(
                    db_session=session,
                    source_id=source_id,
                    owner=self.owner,
                    outcome=outcome,
                    now=now,
                )
                # Users whose auto-download rule covers this favorite get the new chapters
                # queued; the Downloader picks them up at its next tick.
                queued = await downloads_service.queue_for_rules(
                    db_session=session,
                    manga_id=result.manga_id,
                    chapter_ids=outcome.new_chapter_ids,
                    now=now,
                )
            if queued:
                logger.info("auto-download manga=%s requests=%d", result.manga_id, queued)
        if finished:
            self.notifier.wake.set()
            for run_id in finished:
                logger.info("library update run=%s done", run_id)

    async def _loop(self) -> None:
        await tick_until_stopped(
            self._stopping, self._wake, self.tick, lambda: len(self._running) < self.concurrency,
            idle_seconds=IDLE_POLL_SECONDS, error_backoff_seconds=ERROR_BACKOFF_SECONDS,
            logger=logger, what="library update",
        )  # fmt: skip


def outcome_of(result: Any) -> claims.Outcome:
    """The reading service's refresh result in the words of an update outcome. A source's first
    fetch stores its whole back catalog: nothing in it is news."""
    if result.outcome == reading_service.SKIPPED:
        return claims.Outcome(
            outcome="skipped", reason=rules.skip_reason(result.reason), error_kind=result.error_kind
        )
    if result.outcome == reading_service.FAILED:
        return claims.Outcome(
            outcome="failed", error_kind=result.error_kind, error_message=result.error_message
        )
    if result.new_chapter_ids and not result.first_fetch:
        return claims.Outcome(outcome="new_chapters", new_chapter_ids=result.new_chapter_ids)
    return claims.Outcome(outcome="no_change")


async def start_updates(app: FastAPI, stack: AsyncExitStack) -> None:
    """Wire the updater into the app's lifespan, after monitoring (it listens to the checker)."""
    state = app.state
    settings: Settings = state.settings
    state.updater = None
    if not (settings.monitor_enabled and settings.library_updates_enabled):
        return
    updater = LibraryUpdater(
        db=state.db, registry=state.registry, settings=settings, clock=state.clock
    )
    state.checker.add_listener(updater.on_check)
    await updater.start()
    stack.push_async_callback(updater.stop)
    state.updater = updater
