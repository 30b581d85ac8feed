"""The monitor: one component with ``start()``/``stop()``, run in-process by ``serve`` (unless
``KUROBARA_MONITOR_ENABLED=false``) or alone by ``kurobara monitor``.

Its loop is a loop around a step: claim what is due (up to the free concurrency slots), start
those checks, and go round again as soon as a slot frees or something falls due; ``step()`` is
the same unit that then waits for its checks, and it is what the tests call. Beside it run the
notification outbox and, hourly, the retention job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI

from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.monitoring import claims, history, rules, service
from kurobara.monitoring.checker import Checker, CheckReport
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.monitoring.events import StatusEvents
from kurobara.monitoring.notifications import Notifier
from kurobara.providers.errors import ProviderError
from kurobara.providers.registry import ProviderRegistry

logger = logging.getLogger("kurobara.monitoring")

# Longest nap of an idle scheduler: bounds how late it notices work another replica made due
# (an early check requested by a search on another replica).
IDLE_POLL_SECONDS = 5.0
# How often the retention job runs.
RETENTION_EVERY = timedelta(hours=1)
# A provider that rate-limits a search is up; checking it early would only add load.
EARLY_CHECK_IGNORED = frozenset({"rate_limited"})
# After an unexpected error (database unreachable) the loop waits this long before retrying.
ERROR_BACKOFF_SECONDS = 5.0


class Monitor:
    def __init__(
        self,
        *,
        db: Database,
        registry: ProviderRegistry,
        settings: Settings,
        clock: Clock | None = None,
        checker: Checker | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.checker = checker or Checker(
            db=db, registry=registry, settings=settings, clock=self.clock
        )
        self.notifier = notifier or Notifier(db=db, settings=settings, clock=self.clock)
        self.checker.add_listener(self._on_report)
        self.concurrency = settings.check_concurrency
        self._running: set[asyncio.Task[CheckReport]] = set()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._next_prune: datetime | None = None

    @property
    def owner(self) -> str:
        return self.checker.owner

    def _on_report(self, report: CheckReport) -> None:
        if report.applied is not None and report.applied.notify:
            self.notifier.wake.set()

    async def start(self, *, sweep: bool = True) -> None:
        """Make every enabled provider due (the start-up sweep) and return at once: the checks
        run in the background, so a server starting with hung providers still answers."""
        if sweep:
            async with self.db.session() as session:
                count = await claims.schedule_sweep(db_session=session, now=self.clock.now())
            logger.info("monitor starting owner=%s sweep=%d providers", self.owner, count)
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._loop(), name="monitor-loop"),
            asyncio.create_task(self.notifier.run(self._stopping), name="monitor-notifier"),
        ]

    async def stop(self) -> None:
        """Cancel in-flight checks and hand their leases back: nothing is left ``testing``."""
        self._stopping.set()
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        for check in self._running:
            check.cancel()
        await asyncio.gather(*self._tasks, *self._running, return_exceptions=True)
        await self.checker.aclose()
        self._tasks = []
        await self.notifier.aclose()
        logger.info("monitor stopped owner=%s", self.owner)

    def wake(self) -> None:
        self._wake.set()

    async def step(self) -> list[CheckReport]:
        """One unit of work: claim due checks up to the free slots, run them, record them."""
        started = await self._start_due()
        return list(await asyncio.gather(*started))

    async def _start_due(self) -> list[asyncio.Task[CheckReport]]:
        free = self.concurrency - len(self._running)
        if free <= 0:
            return []
        async with self.checker.write_slots, self.db.session() as session:
            now = self.clock.now()
            won = await claims.claim_due(
                db_session=session,
                owner=self.owner,
                now=now,
                limit=free,
                lease_until=rules.lease_expiry(now, check_timeout=self.settings.check_timeout),
            )
        started = []
        for provider_id in won:
            task = asyncio.create_task(self.checker.run_claimed(provider_id))
            self._running.add(task)
            task.add_done_callback(self._finished)
            started.append(task)
        return started

    def _finished(self, task: asyncio.Task[CheckReport]) -> None:
        self._running.discard(task)
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            logger.error("scheduled check failed", exc_info=task.exception())

    async def prune(self) -> history.Pruned:
        async with self.db.session() as session:
            pruned = await history.prune(
                db_session=session,
                now=self.clock.now(),
                history_days=self.settings.history_retention_days,
                rollup_days=self.settings.rollup_retention_days,
            )
        if pruned.checks or pruned.rollups or pruned.transitions:
            logger.info(
                "retention removed checks=%d rollups=%d transitions=%d",
                pruned.checks,
                pruned.rollups,
                pruned.transitions,
            )
        return pruned

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                now = self.clock.now()
                if self._next_prune is None or now >= self._next_prune:
                    self._next_prune = now + RETENTION_EVERY
                    await self.prune()
                self._wake.clear()
                started = await self._start_due()
                if started and len(self._running) < self.concurrency:
                    continue  # more may be due right now
                await self._idle()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("monitor step failed; retrying in %.0f s", ERROR_BACKOFF_SECONDS)
                await asyncio.sleep(ERROR_BACKOFF_SECONDS)

    async def _idle(self) -> None:
        """Sleep until a slot frees, the next provider falls due, or the poll interval ends."""
        delay = IDLE_POLL_SECONDS
        if len(self._running) < self.concurrency:
            now = self.clock.now()
            async with self.db.session() as session:
                due = await claims.next_due(db_session=session, now=now)
            if due is not None:
                delay = min(delay, max(0.05, (due - now).total_seconds()))
        try:
            async with asyncio.timeout(delay):
                await self._wake.wait()
        except TimeoutError:
            pass


def early_check_hook(state: Any) -> Callable[[str, ProviderError], Awaitable[None]]:
    """The callback search calls when a provider fails a user's search: make it due now, in
    the database, so whichever replica's scheduler is free checks it (coalesced with any check
    already due), and wake this replica's monitor if it runs one."""

    async def check_early(provider_id: str, error: ProviderError) -> None:
        if error.kind in EARLY_CHECK_IGNORED:
            return
        async with state.db.session() as session:
            made_due = await claims.request_early_check(
                db_session=session, provider_id=provider_id, now=state.clock.now()
            )
        monitor: Monitor | None = getattr(state, "monitor", None)
        if made_due and monitor is not None:
            monitor.wake()

    return check_early


async def start_monitoring(app: FastAPI, stack: AsyncExitStack) -> None:
    """Wire monitoring into the app's lifespan: sync provider rows with the registry, live
    events, a checker for manual tests (every replica), and the monitor itself when enabled."""
    state = app.state
    settings: Settings = state.settings
    clock: Clock = getattr(state, "clock", None) or SystemClock()
    state.clock = clock
    async with state.db.session() as session:
        await service.sync_registry(db_session=session, registry=state.registry, settings=settings)
    events = StatusEvents(getattr(state, "redis", None))
    await events.start()
    stack.push_async_callback(events.aclose)
    state.events = events
    checker = Checker(db=state.db, registry=state.registry, settings=settings, clock=clock)
    checker.add_start_listener(events.on_start)
    checker.add_listener(events.on_report)
    state.checker = checker
    stack.push_async_callback(checker.aclose)
    state.monitor = None
    if settings.monitor_enabled:
        monitor = Monitor(
            db=state.db, registry=state.registry, settings=settings, clock=clock, checker=checker
        )
        await monitor.start()
        stack.push_async_callback(monitor.stop)
        state.monitor = monitor
