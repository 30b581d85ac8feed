"""The workers' event bus on real Unix sockets: an event one worker emits reaches the others'
listeners (not its own twice), a socket left by a worker that died is cleared away, and a
directory another user owns is refused. ``tests/test_workers.py`` runs it in real workers."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from kurobara.monitoring.events import PeerBus, StatusEvents, peer_directory


async def next_event(queue: asyncio.Queue[dict[str, Any] | None]) -> dict[str, Any] | None:
    async with asyncio.timeout(5):
        return await queue.get()


async def test_an_event_reaches_every_other_worker_once(tmp_path: Path) -> None:
    directory = peer_directory(tmp_path)
    workers = [StatusEvents(peers=PeerBus(directory)) for _ in range(3)]
    for events in workers:
        await events.start()
    try:
        async with (
            workers[0].subscribe() as mine,
            workers[1].subscribe() as second,
            workers[2].subscribe() as third,
        ):
            workers[0].on_start("site0")
            for queue in (mine, second, third):
                assert await next_event(queue) == {
                    "type": "testing", "provider_id": "site0", "status": "testing",
                }  # fmt: skip
            await asyncio.sleep(0.2)
            assert (mine.qsize(), second.qsize(), third.qsize()) == (0, 0, 0)
    finally:
        for events in workers:
            await events.aclose()
    assert list(directory.glob("*.sock")) == []


async def test_the_socket_of_a_worker_that_died_is_cleared_away(tmp_path: Path) -> None:
    directory = peer_directory(tmp_path)
    directory.mkdir(parents=True)
    dead = directory / "999999-deadbeef.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as gone:
        gone.bind(str(dead))  # bound, then closed: nobody listens there any more
    events = StatusEvents(peers=PeerBus(directory))
    await events.start()
    try:
        async with events.subscribe() as mine:
            events.on_start("site0")
            assert (await next_event(mine) or {})["provider_id"] == "site0"
            await asyncio.sleep(0.1)
        assert not dead.exists()
    finally:
        await events.aclose()


@pytest.mark.skipif(os.getuid() != 0, reason="handing a directory to another user needs root")
async def test_a_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "run" / "events"
    directory.mkdir(parents=True)
    os.chown(directory.parent, 65534, 65534)
    with pytest.raises(RuntimeError, match="belongs to another user"):
        await PeerBus(directory).start(lambda event: None)


def test_a_long_data_dir_meets_under_the_temporary_directory(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 90)
    chosen = peer_directory(deep)
    assert len(str(chosen / "4194304-0123abcd.sock")) <= 107
    assert chosen == peer_directory(deep)  # every worker of the instance picks the same one
    assert chosen != peer_directory(tmp_path / ("e" * 90))
