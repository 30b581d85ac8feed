"""The catalog job: one component with ``start()``/``stop()`` whose loop is
``while not stopping: await step()``. A ``step()`` brings this replica's registry in step with
the enabled catalog entries (another replica's admin may have enabled one) and refreshes every
index URL that is due (daily by default; one replica wins each refresh).
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI

from kurobara.background import PeriodicJob
from kurobara.catalog import service
from kurobara.catalog.service import CatalogSources, RefreshResult, SyncResult
from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.providers.http import HttpClient
from kurobara.providers.registry import ProviderRegistry

logger = logging.getLogger("kurobara.catalog")


@dataclass(frozen=True)
class StepReport:
    sync: SyncResult
    refreshed: list[RefreshResult]


class CatalogJob(PeriodicJob):
    def __init__(
        self,
        *,
        db: Database,
        registry: ProviderRegistry,
        http: HttpClient,
        sources: CatalogSources,
        settings: Settings,
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.http = http
        self.sources = sources
        self.clock: Clock = clock or SystemClock()
        self.every = timedelta(hours=settings.catalog_refresh_hours)
        super().__init__(
            name="catalog-job", logger=logger, interval_seconds=settings.catalog_sync_seconds
        )

    async def sync(self) -> SyncResult:
        async with self.db.session() as session:
            return await service.sync_enabled(
                db_session=session, registry=self.registry, http=self.http
            )

    async def step(self) -> StepReport:
        synced = await self.sync()
        return StepReport(sync=synced, refreshed=await self.refresh(force=False))

    async def refresh(self, *, force: bool) -> list[RefreshResult]:
        """Refresh the due index URLs (all of them with ``force``: an admin's "Refresh now")."""
        results = []
        for url in self.sources.urls:
            now = self.clock.now()
            async with self.db.session() as session:
                won = await service.claim_refresh(
                    db_session=session, url=url, now=now,
                    every=timedelta(0) if force else self.every,
                )  # fmt: skip
                if won:
                    results.append(
                        await service.fetch_and_record(
                            db_session=session, http=self.http, url=url, now=now
                        )
                    )
        return results


async def start_catalog(app: FastAPI, stack: AsyncExitStack) -> None:
    """Wire the catalog into the lifespan before the monitor starts: the enabled entries join
    the registry first, so the monitor's row sync and start-up sweep include them."""
    state = app.state
    settings: Settings = state.settings
    sources = CatalogSources.from_settings(settings)
    if sources.bundled:
        service.bundled_definitions()  # an invalid bundled entry stops start-up here
    job = CatalogJob(
        db=state.db, registry=state.registry, http=state.http, sources=sources,
        settings=settings, clock=getattr(state, "clock", None),
    )  # fmt: skip
    await job.sync()
    await job.start()
    stack.push_async_callback(job.stop)
    state.catalog = job
