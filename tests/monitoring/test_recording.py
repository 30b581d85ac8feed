"""Checks are written in batches (issue 14.1): a batch costs a fixed handful of statements
whatever its size, and a crash loses at most the unflushed batch, whose checks run again once
their leases end — never twice, never lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from fastapi import FastAPI

from kurobara.db.engine import Database
from kurobara.monitoring import rules
from kurobara.monitoring.jobs import Monitor
from tests.monitoring.conftest import ManualClock
from tests.monitoring.helpers import eventually, row
from tests.monitoring.sites import PingSite
from tests.monitoring.test_bounded_reads import statements
from tests.monitoring.test_scheduler import checks_by_provider, second_monitor

PROVIDERS = 24


@pytest.fixture
def definitions(sites: list[PingSite]) -> list[dict[str, Any]]:
    return [sites[i % 2].definition(f"p{i:02d}") for i in range(PROVIDERS)]


@pytest.fixture
def monitor_settings() -> dict[str, object]:
    return {"check_concurrency": PROVIDERS}


def writes(seen: list[tuple[str, Any]]) -> list[str]:
    return [sql for sql, _ in seen if sql.lstrip().upper().startswith(("INSERT", "UPDATE"))]


async def test_a_batch_costs_the_same_statements_whatever_its_size(
    monitor: Monitor, clock: ManualClock
) -> None:
    monitor.concurrency = 1
    with statements(monitor.db) as seen:
        assert len(await monitor.step()) == 1
    one = writes(seen)
    monitor.concurrency = PROVIDERS
    # The batch is written once no check is on the network; a loaded machine can spread the 23
    # answers over more than the 0.2 s latency bound, which would cut it in two.
    monitor.checker.recorder.max_delay = 60.0
    with statements(monitor.db) as seen:
        assert len(await monitor.step()) == PROVIDERS - 1
    many = writes(seen)
    # One claim, one batch: status rows, history rows, rollups — each one statement.
    assert len(many) == len(one), (one, many)
    assert Counter((await checks_by_provider(monitor.db)).values()) == Counter({1: PROVIDERS})


async def test_a_crash_loses_only_the_unflushed_batch_and_its_checks_run_again(
    app: FastAPI, monitor: Monitor, clock: ManualClock, db_url: str
) -> None:
    engine = Database(db_url)
    doomed = second_monitor(app, clock, engine)
    doomed.concurrency = 6
    recorder = doomed.checker.recorder
    recorder.quiet = lambda: False  # results wait for a fuller batch (or 60 s)
    recorder.max_delay = 60
    try:
        dying = asyncio.create_task(doomed.step())

        async def results_waiting() -> bool:
            return recorder.pending == 6

        await eventually(results_waiting)
        # The process dies: the queued results are never written, the leases stay behind.
        dying.cancel()
        await asyncio.gather(dying, return_exceptions=True)
        await recorder.aclose()
        assert sum((await checks_by_provider(monitor.db)).values()) == 0
        leased = [f"p{i:02d}" for i in range(PROVIDERS)
                  if (await row(monitor.db, f"p{i:02d}")).lease_owner == doomed.owner]  # fmt: skip
        assert len(leased) == 6
        assert len(await monitor.step()) == PROVIDERS - 6  # the others' checks go on
        # Past the dead replica's leases.
        clock.set(rules.lease_expiry(clock.now(), check_timeout=app.state.settings.check_timeout))
        clock.advance(seconds=1)
        assert sorted(r.provider_id for r in await monitor.step()) == leased
    finally:
        await engine.dispose()
    assert await checks_by_provider(monitor.db) == Counter(
        {f"p{i:02d}": 1 for i in range(PROVIDERS)}
    )
