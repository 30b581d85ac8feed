"""Live status events (server-sent events): a check's ``testing`` and ``check`` events reach a
subscribed browser, from another replica too when Redis is configured."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kurobara.config import Settings
from kurobara.monitoring import rules
from kurobara.web.dashboard import HEARTBEAT_CHECKS, sparkline_svg
from tests.conftest import TLS, require_service
from tests.monitoring.helpers import ServedApp, register


def serve(settings: Settings) -> ServedApp:
    app = ServedApp(settings)
    app.start()
    for _ in range(200):
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{app.url}/healthz", timeout=1, verify=TLS).status_code == 200:
                return app
        time.sleep(0.05)
    raise AssertionError("server did not start")


@pytest.fixture
def served(settings: Settings) -> Iterator[ServedApp]:
    app = serve(settings)
    yield app
    app.stop()


async def events_until_check(
    listen_url: str, headers: dict[str, str], trigger: Any
) -> list[tuple[str, dict[str, Any]]]:
    """Subscribe, run ``trigger``, and collect events until the first ``check``."""
    seen: list[tuple[str, dict[str, Any]]] = []
    async with (
        httpx.AsyncClient(base_url=listen_url, timeout=10, verify=TLS) as client,
        client.stream("GET", "/api/v1/providers/events", headers=headers) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        assert (await anext(lines)).startswith("retry:")
        fired = asyncio.create_task(trigger())
        kind = ""
        async for line in lines:
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                seen.append((kind, json.loads(line.removeprefix("data: "))))
                if kind == "check":
                    break
        await fired
    return seen


async def test_a_manual_check_streams_testing_then_its_result(served: ServedApp) -> None:
    headers = await asyncio.to_thread(register, served.url, "bob")

    async def trigger() -> None:
        async with httpx.AsyncClient(base_url=served.url, timeout=10, verify=TLS) as client:
            await client.post("/api/v1/providers/site0/test", headers=headers)

    seen = await events_until_check(served.url, headers, trigger)
    assert [kind for kind, _ in seen] == ["testing", "check"]
    check = seen[-1][1]
    assert check["provider_id"] == "site0"
    assert check["status"] == "active"
    assert check["transition"] == ["unknown", "active"]
    # What the row shows beside the status comes with it (live rows stay true).
    assert (check["uptime_24h"], check["uptime_7d"], check["uptime_30d"]) == (100, 100, 100)
    # And the sparkline redrawn with this check, as the server draws the page.
    sparkline = check["sparkline"]
    assert sparkline["response_times"] == [check["response_time"]]
    shape = rules.sparkline_shape([check["response_time"]], slots=rules.RECENT_CHECKS)
    assert (sparkline["line"], sparkline["end"], sparkline["count"]) == (shape.line, shape.end, 1)
    assert f'd="{sparkline["line"]}"' in str(
        sparkline_svg([check["response_time"]], slots=HEARTBEAT_CHECKS)
    )


async def test_events_need_a_token(served: ServedApp) -> None:
    async with httpx.AsyncClient(base_url=served.url, verify=TLS) as client:
        assert (await client.get("/api/v1/providers/events")).status_code == 401


async def test_events_reach_browsers_of_another_replica_through_redis(
    settings: Settings, redis_url: str
) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url})
    first = await asyncio.to_thread(serve, shared)
    second = await asyncio.to_thread(serve, shared)
    try:
        headers = await asyncio.to_thread(register, first.url, "bob")

        async def trigger_on_second() -> None:
            async with httpx.AsyncClient(base_url=second.url, timeout=10, verify=TLS) as client:
                await client.post("/api/v1/providers/site1/test", headers=headers)

        seen = await events_until_check(first.url, headers, trigger_on_second)
        assert seen[-1][1]["provider_id"] == "site1"
    finally:
        await asyncio.to_thread(first.stop)
        await asyncio.to_thread(second.stop)


class PrivateRedis:
    """A redis-server of this test's own on a free loopback port (the shared one stays up)."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        require_service("redis-server", False, "install the redis-server binary")
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


async def test_instances_on_other_databases_of_one_redis_do_not_hear_each_other(
    private_redis: PrivateRedis,
) -> None:
    """Redis scopes keys by database index but Pub/Sub channels not at all: two instances
    given ``.../0`` and ``.../1`` of one server each see only their own checks."""
    import redis.asyncio as aioredis

    from kurobara.monitoring.events import StatusEvents

    server = private_redis.url.rsplit("/", 1)[0]
    clients = [aioredis.from_url(f"{server}/{index}", decode_responses=True) for index in (0, 1)]
    mine, theirs = (StatusEvents(client) for client in clients)

    async def heard(events: StatusEvents, queue: asyncio.Queue[Any], provider_id: str) -> list[str]:
        """Emit until this instance hears its own event back through Redis; what it heard."""
        got: list[str] = []
        async with asyncio.timeout(10):
            while True:
                events.emit({"type": "testing", "provider_id": provider_id})
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.2):
                        while True:
                            event = await queue.get()
                            got.append(event["provider_id"])
                            if event["provider_id"] == provider_id and events.relaying:
                                return got

    try:
        await mine.start()
        await theirs.start()
        async with mine.subscribe() as my_queue, theirs.subscribe() as their_queue:
            await heard(mine, my_queue, "mine-ready")
            await heard(theirs, their_queue, "theirs")
            # Redis delivers in publishing order: had "theirs" reached my channel, it would
            # come before this.
            assert "theirs" not in await heard(mine, my_queue, "mine")
    finally:
        for events in (mine, theirs):
            await events.aclose()
        for client in clients:
            await client.aclose()


async def test_stopping_ends_the_publisher_even_when_redis_swallows_the_cancel(
    redis_url: str,
) -> None:
    """redis-py (8.2) can catch a cancellation in the middle of ``PUBLISH`` and return as if
    nothing happened, the task still marked as cancelling: stopping the events must end the
    publisher anyway, whenever it comes, and not wait for an event that never arrives."""
    import redis.asyncio as aioredis

    from kurobara.monitoring.events import StatusEvents

    client = aioredis.from_url(redis_url, decode_responses=True)
    try:
        for turns in range(40):
            events = StatusEvents(client)
            await events.start()
            for _ in range(20):
                events.emit({"type": "testing", "provider_id": "site1"})
            for _ in range(turns % 8):
                await asyncio.sleep(0)
            async with asyncio.timeout(5):
                await events.aclose()
    finally:
        await client.aclose()
