"""The migration scout: one component with ``start()``/``stop()`` beside the monitor, whose
loop is ``while not stopping: await step()`` every ``KUROBARA_MIGRATION_SCAN_SECONDS``.

A step finds the providers dead long enough (``KUROBARA_MIGRATION_AFTER_HOURS`` down, or
switched off, or removed), records the library manga that depend on them alone, searches the
healthy providers for candidates of a bounded number of them (network calls outside any
transaction), then writes and sends the users' notices. Several replicas may run it: needs and
notices are upserts, candidates are replaced per manga, and a notice is sent by whoever leases
it. ``step()`` takes an injected clock, which is what the tests move.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass

from fastapi import FastAPI

from kurobara.background import PeriodicJob
from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.failover import notifications, proposals
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.providers.registry import ProviderRegistry

logger = logging.getLogger("kurobara.failover.scout")

# Manga searched for per step: bounds one step's requests to the healthy sites.
SCANS_PER_STEP = 20


@dataclass(frozen=True)
class StepReport:
    dead: int
    new_needs: int
    scanned: int
    notices: int
    sent: int


class MigrationScout(PeriodicJob):
    def __init__(
        self,
        *,
        db: Database,
        registry: ProviderRegistry,
        settings: Settings,
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        super().__init__(
            name="migration-scout",
            logger=logger,
            interval_seconds=settings.migration_scan_seconds,
        )

    async def step(self) -> StepReport:
        now = self.clock.now()
        async with self.db.session() as session:
            dead = await proposals.dead_providers(
                db_session=session,
                registry=self.registry,
                after_hours=self.settings.migration_after_hours,
                now=now,
            )
            new = await proposals.sync_needs(db_session=session, dead=dead, now=now)
            due = await proposals.due_scans(
                db_session=session,
                now=now,
                rescan_hours=self.settings.migration_rescan_hours,
                limit=SCANS_PER_STEP,
            )
        for manga_id in due:
            async with self.db.session() as session:
                await proposals.scan(
                    db_session=session,
                    registry=self.registry,
                    manga_id=manga_id,
                    now=now,
                    timeout=self.settings.search_timeout,
                )
        names = {p.id: p.name for p in self.registry}
        base_url = self.settings.public_url or f"http://{self.settings.host}:{self.settings.port}"
        async with self.db.session() as session:
            written = await notifications.write_notices(
                db_session=session, names=names, base_url=base_url, now=now
            )
            sent = await notifications.deliver(db_session=session, now=self.clock.now())
        if dead or due:
            logger.info(
                "migration scout dead=%d new_needs=%d scanned=%d notices=%d",
                len(dead),
                len(new),
                len(due),
                written,
            )
        return StepReport(len(dead), len(new), len(due), written, sent)


async def start_scout(app: FastAPI, stack: AsyncExitStack) -> None:
    """Run the scout beside the monitor (``KUROBARA_MONITOR_ENABLED=false`` or
    ``KUROBARA_MIGRATION_SCOUT_ENABLED=false`` leaves it out of a replica)."""
    state = app.state
    settings: Settings = state.settings
    scout = MigrationScout(
        db=state.db, registry=state.registry, settings=settings, clock=state.clock
    )
    state.scout = scout
    if not (settings.monitor_enabled and settings.migration_scout_enabled):
        return
    await scout.start()
    stack.push_async_callback(scout.stop)
