"""The monitor: one component with ``start()``/``stop()``, run in-process by ``serve`` (unless
``KUROBARA_MONITOR_ENABLED=false``) or alone by ``kurobara monitor``.

Its loop is ``while not stopping: await tick()``. A ``tick()`` waits until there may be work (a
check finished, something asked for an early check, the last turn left slots free, the next
provider falls due, or the poll interval ends), then claims due checks up to the free
concurrency slots and starts them; tests call the same ``tick()`` (through ``step()``, which
also waits for the checks it started). Beside the loop run the notification outbox and, hourly
in its own task, the retention job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from kurobara.background import nap
from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.monitoring import claims, history, identity, passive, rules, service
from kurobara.monitoring.checker import Checker, CheckReport
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.monitoring.events import PeerBus, StatusEvents, peer_directory
from kurobara.monitoring.notifications import Notifier
from kurobara.monitoring.throttle import ManualTestLimiter
from kurobara.providers.errors import ProviderError
from kurobara.providers.http import HttpClient
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
# The start-up sweep skips providers any replica checked this recently: a rolling restart of
# N replicas sweeps once, not N times.
SWEEP_FRESH = timedelta(minutes=5)
# A claimed check that cannot run (its provider left the registry, the check crashed) is due
# again after the retry interval, doubled per crash in a row, at most this long.
HAND_BACK_MAX = timedelta(hours=1)


class Monitor:
    def __init__(
        self,
        *,
        db: Database,
        registry: ProviderRegistry,
        http: HttpClient,
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
        self.notifier = notifier or Notifier(db=db, http=http, settings=settings, clock=self.clock)
        self.checker.add_listener(self._on_report)
        self.checker.add_network_listener(self._off_network)
        self.concurrency = settings.check_concurrency
        # Checks started and not yet recorded; of them, those still on the network (the
        # concurrency limit counts these: a result waiting to be written holds no slot).
        self._running: dict[asyncio.Task[CheckReport], str] = {}
        self._on_network: set[str] = set()
        self._crashes: dict[str, int] = {}
        # Due providers of other replicas' registries the last claim passed over.
        self._others = 0
        self._wake = asyncio.Event()
        self._wake.set()  # the first turn looks at once
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def owner(self) -> str:
        return self.checker.owner

    @property
    def registry(self) -> ProviderRegistry:
        return self.checker.registry

    def _off_network(self, provider_id: str) -> None:
        if provider_id in self._on_network:
            self._on_network.discard(provider_id)
            self._wake.set()

    def _free_slots(self) -> int:
        """Slots to claim for now: none while the recorder has a backlog of two batches (the
        database is the bottleneck then); else the free concurrency, once enough of it is free
        to be worth a claim (half of it, or everything when idle) — one claim per many
        checks, not one per check."""
        if self.checker.recorder.pending >= 2 * self.checker.recorder.max_batch:
            return 0
        free = self.concurrency - len(self._on_network)
        if self._on_network and free < max(1, self.concurrency // 2):
            return 0
        return free

    def _on_report(self, report: CheckReport) -> None:
        if report.applied is not None and report.applied.notify:
            self.notifier.wake.set()

    async def start(self, *, sweep: bool = True) -> None:
        """The start-up sweep (every enabled provider not checked in the last few minutes by
        any replica becomes due) and return at once: the checks run in the background, so a
        server starting with hung providers still answers."""
        if sweep:
            count = await self.sweep()
            logger.info("monitor starting owner=%s sweep=%d providers", self.owner, count)
        self._stopping.clear()
        self._wake.set()
        self._tasks = [
            asyncio.create_task(self.run(), name="monitor-loop"),
            asyncio.create_task(self.notifier.run(self._stopping), name="monitor-notifier"),
            asyncio.create_task(self._retention(), name="monitor-retention"),
        ]

    async def sweep(self) -> int:
        """Make due now every enabled provider that no replica checked in the last
        ``SWEEP_FRESH``: the seed's "test all providers on startup", once per deployment."""
        now = self.clock.now()
        async with self.db.session() as session:
            return await claims.schedule_sweep(
                db_session=session,
                now=now,
                fresh_since=now - SWEEP_FRESH,
                provider_ids=self.registry.ids(),
            )

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
        logger.info("monitor stopped owner=%s", self.owner)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """The production loop."""
        while not self._stopping.is_set():
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("monitor tick failed; retrying in %.0f s", ERROR_BACKOFF_SECONDS)
                await asyncio.sleep(ERROR_BACKOFF_SECONDS)

    async def tick(self) -> list[asyncio.Task[CheckReport]]:
        """One turn: wait until there may be work, then claim due checks up to the free slots
        and start them; the started checks."""
        await self._wait_for_work()
        self._wake.clear()
        started = await self._start_due()
        if started and self._free_slots() > 0:
            self._wake.set()  # more may be due right now
        return started

    async def step(self) -> list[CheckReport]:
        """What a test drives: look now (as an early-check request does), one ``tick()``, and
        wait for the checks it started."""
        self.wake()
        return list(await asyncio.gather(*await self.tick()))

    async def _start_due(self) -> list[asyncio.Task[CheckReport]]:
        free = self._free_slots()
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
                provider_ids=self.registry.ids(),
                others=self._others,
            )
        self._others = won.others
        started = []
        for provider_id in won.provider_ids:
            if provider_id not in self.registry:  # left the registry since the claim
                await self._hand_back(provider_id)
                continue
            task = asyncio.create_task(self.checker.run_claimed(provider_id))
            self._running[task] = provider_id
            self._on_network.add(provider_id)
            task.add_done_callback(self._finished)
            started.append(task)
        return started

    def _finished(self, task: asyncio.Task[CheckReport]) -> None:
        provider_id = self._running.pop(task, "")
        self._on_network.discard(provider_id)
        self._wake.set()
        if task.cancelled():
            return
        if task.exception() is None:
            self._crashes.pop(provider_id, None)
            return
        logger.error("scheduled check failed provider=%s", provider_id, exc_info=task.exception())
        if not self._stopping.is_set():
            back = asyncio.create_task(
                self._hand_back(provider_id), name=f"hand-back-{provider_id}"
            )
            self._tasks.append(back)

    async def _hand_back(self, provider_id: str) -> None:
        crashes = self._crashes.get(provider_id, 0)
        self._crashes[provider_id] = crashes + 1
        delay = min(
            timedelta(seconds=self.settings.retry_interval_seconds) * 2**crashes, HAND_BACK_MAX
        )
        now = self.clock.now()
        try:
            async with self.db.session() as session:
                await claims.hand_back(
                    db_session=session, provider_id=provider_id, owner=self.owner,
                    retry_at=now + delay,
                )  # fmt: skip
        except Exception:
            logger.exception("handing back a check failed provider=%s", provider_id)
            return
        logger.warning(
            "check handed back provider=%s retry_in=%.0fs", provider_id, delay.total_seconds()
        )

    async def _wait_for_work(self) -> None:
        """Return when woken, when a slot is free and the next provider falls due, or when the
        poll interval ends (work another replica made due)."""
        if self._wake.is_set():
            return
        delay = IDLE_POLL_SECONDS
        if self._free_slots() > 0:
            now = self.clock.now()
            async with self.db.session() as session:
                due = await claims.next_due(
                    db_session=session, now=now, provider_ids=self.registry.ids(),
                    others=self._others,
                )  # fmt: skip
            if due is not None:
                delay = min(delay, max(0.05, (due - now).total_seconds()))
        await nap(self._wake, delay)

    async def prune(self) -> history.Pruned:
        """Retention, in a write slot of its own: on SQLite it queues behind recorders instead
        of colliding with them."""
        async with self.checker.write_slots, self.db.session() as session:
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

    async def _retention(self) -> None:
        """Hourly retention in its own task, so a long delete never holds up a tick."""
        while not self._stopping.is_set():
            try:
                await self.prune()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("retention failed")
            await nap(self._stopping, RETENTION_EVERY.total_seconds())


def early_check_hook(state: Any) -> Callable[[str, ProviderError], Awaitable[None]]:
    """The callback search calls when a provider fails a user's search: count the failure as
    evidence (``passive``: enough of them mark it down at once), and make it due now, in the
    database, so whichever replica's scheduler is free checks it (coalesced with any check
    already due), and wake this replica's monitor if it runs one."""

    async def check_early(provider_id: str, error: ProviderError) -> None:
        if error.kind in EARLY_CHECK_IGNORED:
            return
        now = state.clock.now()
        async with state.db.session() as session:
            applied = await passive.record_search_failure(
                db_session=session,
                provider_id=provider_id,
                kind=error.kind,
                http_status=error.status_code,
                message=error.message,
                now=now,
                down_minutes=state.settings.down_check_interval,
            )
            made_due = await claims.request_early_check(
                db_session=session, provider_id=provider_id, now=now
            )
        monitor: Monitor | None = getattr(state, "monitor", None)
        if monitor is not None:
            if made_due:
                monitor.wake()
            if applied is not None and applied.notify:
                monitor.notifier.wake.set()

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
    redis = getattr(state, "redis", None)
    peers = None
    if redis is None and settings.workers > 1:
        peers = PeerBus(peer_directory(settings.data_dir))
    events = StatusEvents(redis, peers=peers)
    await events.start()
    stack.push_async_callback(events.aclose)
    state.events = events
    replica = identity.replica_id(settings)
    checker = Checker(
        db=state.db,
        registry=state.registry,
        settings=settings,
        clock=clock,
        owner=identity.process_owner(replica, "serve"),
    )
    await checker.reclaim_dead_leases(identity.lineage(replica, "serve"))
    checker.add_start_listener(events.on_start)
    checker.add_listener(events.on_report)
    state.checker = checker
    state.manual_test_limiter = ManualTestLimiter(
        redis=getattr(state, "redis", None),
        limit=settings.manual_test_limit,
        window_seconds=settings.manual_test_window_seconds,
    )
    stack.push_async_callback(checker.aclose)
    state.monitor = None
    if settings.monitor_enabled:
        monitor = Monitor(
            db=state.db,
            registry=state.registry,
            http=state.http,
            settings=settings,
            clock=clock,
            checker=checker,
        )
        await monitor.start()
        stack.push_async_callback(monitor.stop)
        state.monitor = monitor
