"""The production loop is ``while not stopping: await tick()`` with ``tick()`` the unit the
other tests drive through ``step()`` (issue 10.11): what runs in production is what is tested."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from kurobara.monitoring.checker import CheckReport
from kurobara.monitoring.jobs import Monitor
from tests.monitoring.conftest import ManualClock
from tests.monitoring.helpers import eventually, row


class ObservedMonitor(Monitor):
    """The real monitor, noting which providers each of its ticks started."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.ticked: list[list[str]] = []

    async def tick(self) -> list[asyncio.Task[CheckReport]]:
        started = await super().tick()
        self.ticked.append([self._running.get(task, "") for task in started])
        return started


async def test_the_started_monitor_checks_through_tick(app: FastAPI, clock: ManualClock) -> None:
    state = app.state
    monitor = ObservedMonitor(
        db=state.db, registry=state.registry, http=state.http, settings=state.settings,
        clock=clock, checker=state.checker,
    )  # fmt: skip
    reports: list[CheckReport] = []
    monitor.checker.add_listener(reports.append)
    await monitor.start(sweep=True)
    try:

        async def both_checked() -> bool:
            return len(reports) >= 2

        await eventually(both_checked)
    finally:
        await monitor.stop()
    started = sorted(pid for turn in monitor.ticked for pid in turn)
    assert started == sorted(r.provider_id for r in reports) == ["site0", "site1"]
    for provider_id in started:
        assert (await row(monitor.db, provider_id)).last_check == clock.now()
