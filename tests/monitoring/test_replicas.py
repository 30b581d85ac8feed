"""Three replicas on one database and one Redis, in one story (issue 10, "live numbers stay
true"): a rolling restart of one replica and a Redis restart meanwhile lose and duplicate
nothing — every due check runs exactly once (the restart sweeps nothing twice), every transition
is notified exactly once, and every check's event reaches every replica's browsers (while Redis
is away, each replica's browsers still hear that replica's own checks)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from kurobara.app import create_app
from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.monitoring.checker import CheckReport
from kurobara.monitoring.jobs import Monitor
from kurobara.monitoring.models import ProviderCheck, ProviderStatus
from tests.conftest import TLS
from tests.monitoring.conftest import ManualClock
from tests.monitoring.helpers import checked_in_ticks, eventually, register
from tests.monitoring.sites import PingSite
from tests.monitoring.test_events import PrivateRedis, private_redis  # noqa: F401
from tests.monitoring.test_notifications import Receiver

PROVIDERS = 6
Key = tuple[str, str]  # (provider_id, timestamp): one check


@pytest.fixture
def definitions(sites: list[PingSite]) -> list[dict[str, Any]]:
    return [sites[i % 2].definition(f"p{i}") for i in range(PROVIDERS)]


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.port = receiver.server.start("127.0.0.1", 0)
    yield receiver
    receiver.server.stop()


@pytest.fixture
def monitor_settings(hook: Receiver) -> dict[str, object]:
    # The monitors are stepped by the test (manual clock); check_concurrency 2 splits each
    # round's six checks across the three replicas.
    return {"monitor_enabled": False, "check_concurrency": 2, "notify_webhook": hook.url("hook")}


class Replica:
    """One replica: the real app under uvicorn in a thread with its own event loop (its
    engine, checker, events and Redis relay live there), on a fixed loopback port so that a
    restarted replica answers where the old one did, and its monitor stepped from the test."""

    def __init__(self, settings: Settings, clock: ManualClock, port: int = 0) -> None:
        self.app = create_app(settings)
        self.app.state.clock = clock
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on",
                                timeout_graceful_shutdown=0.5)  # fmt: skip
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.clock = clock
        self.monitor: Monitor | None = None
        self.ran: list[Key] = []

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve(sockets=[self.sock]))
        self.loop.close()

    async def start(self) -> Replica:
        self.thread.start()

        async def started() -> bool:
            return bool(self.server.started)

        await eventually(started, seconds=20)
        state = self.app.state
        self.monitor = Monitor(
            db=state.db, registry=state.registry, http=state.http, settings=state.settings,
            clock=self.clock, checker=state.checker,
        )  # fmt: skip
        return self

    async def call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine in the replica's own loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def step(self) -> list[CheckReport]:
        assert self.monitor is not None
        reports: list[CheckReport] = await self.call(self.monitor.step())
        self.ran += [(r.provider_id, r.timestamp.isoformat()) for r in reports]
        return reports

    async def sweep(self) -> int:
        assert self.monitor is not None
        swept: int = await self.call(self.monitor.sweep())
        return swept

    async def deliver(self) -> int:
        assert self.monitor is not None
        sent: int = await self.call(self.monitor.notifier.deliver_pending())
        return sent

    @property
    def relaying(self) -> bool:
        return bool(self.app.state.events.relaying)

    @property
    def listeners(self) -> int:
        return len(self.app.state.events._subscribers)

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.to_thread(self.thread.join, 30)
        self.sock.close()


class Browser:
    """A signed-in browser on one replica's Providers page: it keeps the event stream open and
    reconnects (as EventSource does) when the replica goes away and comes back."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url, self.headers = url, headers
        self.checks: list[Key] = []
        self.task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            with contextlib.suppress(httpx.TransportError):
                async with (
                    httpx.AsyncClient(base_url=self.url, timeout=None, verify=TLS) as client,
                    client.stream("GET", "/api/v1/providers/events", headers=self.headers) as s,
                ):
                    kind = ""
                    async for line in s.aiter_lines():
                        if line.startswith("event: "):
                            kind = line.removeprefix("event: ")
                        elif line.startswith("data: ") and kind == "check":
                            data = json.loads(line.removeprefix("data: "))
                            self.checks.append((data["provider_id"], data["timestamp"]))
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def listening(*replicas: Replica) -> None:
    async def all_listening() -> bool:
        return all(replica.listeners >= 1 for replica in replicas)

    await eventually(all_listening, seconds=10)


async def relaying(*replicas: Replica) -> None:
    async def all_relaying() -> bool:
        return all(replica.relaying for replica in replicas)

    await eventually(all_relaying, seconds=15)


async def heard(browsers: list[Browser], expected: list[set[Key]]) -> None:
    """Wait until each browser has heard its expected checks (events are asynchronous)."""

    async def all_heard() -> bool:
        return all(want <= set(b.checks) for b, want in zip(browsers, expected, strict=True))

    await eventually(all_heard, seconds=10)


async def recorded(db: Database) -> list[Key]:
    async with db.session() as session:
        rows = await session.execute(select(ProviderCheck.provider_id, ProviderCheck.checked_at))
        return [(pid, at.isoformat()) for pid, at in rows.all()]


async def test_a_rolling_restart_and_a_redis_restart_lose_and_duplicate_nothing(
    settings: Settings, clock: ManualClock, sites: list[PingSite], hook: Receiver,
    private_redis: PrivateRedis,  # noqa: F811
) -> None:  # fmt: skip
    shared = settings.model_copy(update={"redis_url": private_redis.url})
    replicas = [await Replica(shared, clock).start() for _ in range(3)]
    headers = await asyncio.to_thread(register, replicas[0].url, "alice")
    browsers = [Browser(replica.url, headers) for replica in replicas]
    db = Database(settings.resolved_database_url)
    try:
        await listening(*replicas)
        await relaying(*replicas)
        # Deployment: every replica's start-up sweep; each provider is checked once in all,
        # and every browser hears every check.
        await asyncio.gather(*(replica.sweep() for replica in replicas))
        assert await checked_in_ticks(*replicas) == PROVIDERS
        first_round = set(await recorded(db))
        await heard(browsers, [first_round] * 3)

        # Redis goes away, and the third replica is restarted in the meantime: its start-up
        # sweep finds every provider freshly checked and makes nothing due.
        await asyncio.to_thread(private_redis.stop)
        await replicas[2].stop()
        replicas[2] = await Replica(shared, clock, port=replicas[2].port).start()
        await listening(replicas[2])
        assert await replicas[2].sweep() == 0
        assert await checked_in_ticks(*replicas) == 0
        # The next round (site0's providers fail) while Redis is still away: each replica's
        # browsers hear that replica's own checks.
        sites[0].set_fault("error")
        clock.advance(minutes=61)
        for replica in replicas:
            replica.ran.clear()
        assert await checked_in_ticks(*replicas) == PROVIDERS
        await heard(browsers, [set(replica.ran) for replica in replicas])

        # Redis is back: every relay reconnects, and the rounds that take site0's providers
        # down reach every browser again.
        await asyncio.to_thread(private_redis.start)
        await relaying(*replicas)
        before = set(await recorded(db))
        for _ in range(2):
            clock.advance(minutes=61)
            assert await checked_in_ticks(*replicas) == PROVIDERS
        later = set(await recorded(db)) - before
        await heard(browsers, [later] * 3)

        # Each down transition goes out once, though all three replicas deliver at once.
        sent = await asyncio.gather(*(replica.deliver() for replica in replicas * 2))
    finally:
        for browser in browsers:
            await browser.close()
        for replica in replicas:
            await replica.stop()
    assert sum(sent) == 3
    hooks = hook.named("hook")
    assert sorted(h["provider_id"] for h in hooks) == ["p0", "p2", "p4"]
    assert len({h["id"] for h in hooks}) == 3
    checks = await recorded(db)
    assert Counter(pid for pid, _ in checks) == Counter({f"p{i}": 4 for i in range(PROVIDERS)})
    assert len(set(checks)) == len(checks)
    for browser in browsers:  # no event heard twice (relay and local delivery never both)
        assert len(set(browser.checks)) == len(browser.checks)
    async with db.session() as session:
        leases = await session.scalars(select(ProviderStatus.lease_owner))
        assert set(leases.all()) == {None}
    await db.dispose()
