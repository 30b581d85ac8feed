"""Run one provider's check and record it. Used by the scheduler, ``POST /providers/{id}/test``
and the CLI alike, so that concurrent requests for one provider share one check (single-flight)
and every check is recorded the same way: the network call first, then a short transaction
(shared with the other checks completing at about the same time: see ``recording``)."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.monitoring import claims, recording, rules
from kurobara.monitoring.claims import UNSET, Unset
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.monitoring.models import ProviderCheck
from kurobara.providers.base import HealthCheckResult
from kurobara.providers.registry import ProviderRegistry

logger = logging.getLogger("kurobara.monitoring")

# Sessions writing results at once. Checks wait on the network; recording waits on the
# database, and more writers than the connection pool only churn connections. SQLite takes one
# writer at a time: queueing writers here costs nothing, while letting them collide makes
# SQLite's busy handler sleep (up to 100 ms a turn).
WRITE_SLOTS = 10
SQLITE_WRITE_SLOTS = 1
# How often a manual check waiting on another replica's check of the same provider looks for
# its result.
JOIN_POLL_SECONDS = 0.2
# The shortest user preference changes rarely; re-read it at most this often while checking.
USER_INTERVAL_TTL = timedelta(seconds=30)


@dataclass(frozen=True)
class CheckReport:
    provider_id: str
    result: HealthCheckResult
    timestamp: datetime
    trigger: str
    applied: rules.Applied | None
    # The stored status after a check another replica ran (a joined check has no ``applied``).
    recorded_status: str | None = None
    # Uptime % per window (24h, 7d, 30d) right after this check was recorded.
    uptime: Mapping[str, float | None] | None = None
    # The dashboard's recent response times right after this check, oldest first (None: a
    # failed check), from which the row's sparkline is drawn.
    response_times: Sequence[int | None] | None = None

    @property
    def status(self) -> str | None:
        return self.applied.state.status if self.applied else self.recorded_status


def _joined_report(check: ProviderCheck, status: str | None) -> CheckReport:
    return CheckReport(
        provider_id=check.provider_id,
        result=HealthCheckResult(
            ok=check.ok,
            response_ms=check.response_time,
            error=check.error_message,
            error_kind=check.error_kind,
            http_status=check.http_status,
            stage=check.stage,
        ),
        timestamp=check.checked_at,
        trigger=check.trigger,
        applied=None,
        recorded_status=status,
    )


Listener = Callable[[CheckReport], None]


def replica_id() -> str:
    """Names this process in leases: host, pid and a random part (pids repeat in containers)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Checker:
    def __init__(
        self,
        *,
        db: Database,
        registry: ProviderRegistry,
        settings: Settings,
        clock: Clock | None = None,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.owner = owner or replica_id()
        self._inflight: dict[str, asyncio.Task[CheckReport]] = {}
        self._listeners: list[Listener] = []
        self._start_listeners: list[Callable[[str], None]] = []
        self.write_slots = asyncio.Semaphore(
            SQLITE_WRITE_SLOTS if db.dialect == "sqlite" else WRITE_SLOTS
        )
        self._user_interval: tuple[datetime, int | None] | None = None
        self._network_listeners: list[Callable[[str], None]] = []
        self._on_network = 0
        self.recorder = recording.BatchRecorder(self._flush, quiet=lambda: self._on_network == 0)
        self._policy = recording.Policy(
            default_interval=settings.default_check_interval,
            retry_seconds=settings.retry_interval_seconds,
            down_minutes=settings.down_check_interval,
        )

    def add_listener(self, listener: Listener) -> None:
        """Called after every recorded check (notifier wake-up, live events)."""
        self._listeners.append(listener)

    def add_start_listener(self, listener: Callable[[str], None]) -> None:
        """Called with the provider id when a check starts (live ``testing`` events)."""
        self._start_listeners.append(listener)

    def add_network_listener(self, listener: Callable[[str], None]) -> None:
        """Called with the provider id when a check's network part is over (its result may
        still be waiting to be written): the scheduler's concurrency counts the network."""
        self._network_listeners.append(listener)

    @property
    def in_flight(self) -> list[str]:
        return list(self._inflight)

    async def check(self, provider_id: str, *, trigger: str = "manual") -> CheckReport:
        """Check now (leasing the provider unless another check holds it) and wait for the
        result; joins a check of this provider already running in this process. Raises
        ``UnknownProvider`` for an id the registry does not know."""
        return await self._single_flight(provider_id, trigger=trigger, claimed=False)

    async def run_claimed(self, provider_id: str, *, trigger: str = "scheduled") -> CheckReport:
        """The scheduler's entry: the provider is already leased to ``self.owner``."""
        return await self._single_flight(provider_id, trigger=trigger, claimed=True)

    async def _single_flight(self, provider_id: str, *, trigger: str, claimed: bool) -> CheckReport:
        self.registry.get(provider_id)
        task = self._inflight.get(provider_id)
        if task is None:
            task = asyncio.create_task(
                self._run(provider_id, trigger=trigger, claimed=claimed),
                name=f"check-{provider_id}",
            )
            self._inflight[provider_id] = task
            task.add_done_callback(lambda done: self._forget(provider_id, done))
        # A caller that goes away (a closed HTTP request) must not cancel the shared check.
        return await asyncio.shield(task)

    def _forget(self, provider_id: str, task: asyncio.Task[CheckReport]) -> None:
        if self._inflight.get(provider_id) is task:
            del self._inflight[provider_id]
        if not task.cancelled() and task.exception() is not None:
            logger.error("check crashed provider=%s", provider_id, exc_info=task.exception())

    async def _run(self, provider_id: str, *, trigger: str, claimed: bool) -> CheckReport:
        provider = self.registry.get(provider_id)
        if not claimed:
            joined = await self._claim_or_join(provider_id)
            if joined is not None:
                return joined
        self._tell(self._start_listeners, provider_id)
        self._on_network += 1
        try:
            result = await provider.health_check(self.settings.check_timeout)
        finally:
            self._on_network -= 1
            self._tell(self._network_listeners, provider_id)
            self.recorder.poke()
        pending = recording.PendingCheck(
            provider_id=provider_id,
            result=result,
            now=self.clock.now(),
            owner=self.owner,
            trigger=trigger,
            jitter_seconds=random.uniform(0, self.settings.check_jitter_seconds),
        )
        # A manual check answers with its own recorded result at once.
        recorded = await self.recorder.record(pending, now=not claimed)
        report = CheckReport(
            provider_id=provider_id,
            result=result,
            timestamp=pending.now,
            trigger=trigger,
            applied=recorded.applied,
            uptime=recorded.uptime,
            response_times=recorded.response_times,
        )
        _log(report)
        self._tell(self._listeners, report)
        return report

    async def _flush(self, batch: list[recording.PendingCheck]) -> list[recording.Recorded]:
        async with self.write_slots, self.db.session() as session:
            now = self.clock.now()
            return await recording.record_batch(
                db_session=session,
                checks=batch,
                policy=self._policy,
                user_interval=await self._shortest_user_interval(session, now),
                now=now,
            )

    async def _claim_or_join(self, provider_id: str) -> CheckReport | None:
        """Lease the provider for a check now (None: go ahead), or, while another replica's
        check of it is in flight, wait for that check and return its recorded result: one check
        across replicas, as within one. A holder that outlives its check's timeout is presumed
        dead and its lease taken over. Each poll is its own short transaction."""
        loop = asyncio.get_running_loop()
        timeout = self.settings.check_timeout
        deadline = loop.time() + timeout + rules.LEASE_MARGIN.total_seconds()
        baseline: int | Unset | None = UNSET
        while True:
            now = self.clock.now()
            async with self.write_slots, self.db.session() as session:
                # A check recorded since the first look is the one joined: look before
                # claiming, or the lease its recorder just released would be taken anew.
                latest = await claims.latest_check(db_session=session, provider_id=provider_id)
                latest_id = latest.id if latest is not None else None
                if latest is not None and not isinstance(baseline, Unset) and latest_id != baseline:
                    status = await claims.current_status(
                        db_session=session, provider_id=provider_id
                    )
                    return _joined_report(latest, status)
                if await claims.claim(
                    db_session=session,
                    provider_id=provider_id,
                    owner=self.owner,
                    now=now,
                    lease_until=rules.lease_expiry(now, check_timeout=timeout),
                ):
                    return None
            if isinstance(baseline, Unset):
                logger.info("provider=%s is being checked elsewhere; waiting for it", provider_id)
            baseline = latest_id
            if loop.time() >= deadline:
                logger.warning("joining a check timed out provider=%s; checking", provider_id)
                return None
            await asyncio.sleep(JOIN_POLL_SECONDS)

    @staticmethod
    def _tell(listeners: Sequence[Callable[[Any], None]], value: object) -> None:
        for listener in listeners:
            try:
                listener(value)
            except Exception:
                logger.exception("check listener failed")

    async def _shortest_user_interval(self, session: AsyncSession, now: datetime) -> int | None:
        cached = self._user_interval
        if cached is None or now - cached[0] >= USER_INTERVAL_TTL or now < cached[0]:
            cached = (now, await claims.shortest_user_interval(db_session=session))
            self._user_interval = cached
        return cached[1]

    async def reclaim_dead_leases(self, lineage: str) -> int:
        """Hand back leases an earlier life of this process left (see ``identity``)."""
        async with self.db.session() as session:
            count = await claims.reclaim_dead_leases(
                db_session=session, lineage=lineage, keep=self.owner
            )
        if count:
            logger.info("reclaimed %d leases of an earlier run owner=%s", count, self.owner)
        return count

    def forget_user_interval(self) -> None:
        """A user changed their preference: read it afresh for the next check."""
        self._user_interval = None

    async def cancel_all(self) -> None:
        """Cancel every check in flight (shutdown) and wait for them to unwind."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel what is in flight and hand its leases back, so nothing stays ``testing``."""
        await self.cancel_all()
        await self.recorder.aclose()
        async with self.db.session() as session:
            await claims.release_leases(db_session=session, owner=self.owner)


def _log(report: CheckReport) -> None:
    result = report.result
    transition = report.applied.transition if report.applied else None
    logger.log(
        logging.WARNING if transition and transition[1] == rules.DOWN else logging.INFO,
        "check provider=%s ok=%s ms=%s kind=%s http=%s stage=%s status=%s trigger=%s%s",
        report.provider_id,
        str(result.ok).lower(),
        result.response_ms,
        result.error_kind or "-",
        result.http_status or "-",
        result.stage or "-",
        report.status or "-",
        report.trigger,
        f" transition={transition[0]}->{transition[1]}" if transition else "",
    )
