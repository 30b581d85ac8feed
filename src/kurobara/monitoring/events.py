"""Live status events for browsers (``GET /api/v1/providers/events``, server-sent events).

A check emits ``testing`` when it starts and ``check`` when it is recorded. With Redis
configured, every replica publishes to one channel and relays the channel to its own
subscribers, so a browser connected to any replica sees checks run by any other. A relay that
loses Redis keeps reconnecting (with backoff) and meanwhile delivers this replica's events
locally. Without Redis the fan-out stays on the machine: one process is the whole instance, or
the workers of ``kurobara serve --workers N`` pass each event to each other (``PeerBus``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import os
import secrets
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from kurobara.monitoring import rules
from kurobara.monitoring.checker import CheckReport
from kurobara.providers.wording import in_words

logger = logging.getLogger("kurobara.monitoring.events")

CHANNEL = "kurobara:provider-events"
# A browser that stops reading loses events rather than growing the server's memory.
SUBSCRIBER_BUFFER = 256
_OUTBOX_BUFFER = 10_000
# A broken Redis subscription is retried after this delay, doubling up to the maximum.
RECONNECT_MIN_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 30.0


def channel_for(redis: Any) -> str:
    """The instance's channel. Redis scopes keys by database index but not Pub/Sub channels:
    instances sharing one Redis server through different indexes (``.../0``, ``.../1``) must
    not hear each other's checks, so the index is part of the name."""
    db = redis.connection_pool.connection_kwargs.get("db", 0)
    return f"{CHANNEL}:{db}"


def check_event(report: CheckReport) -> dict[str, Any]:
    result = report.result
    state = report.applied.state if report.applied else None
    transition = report.applied.transition if report.applied else None
    return {
        "type": "check",
        "provider_id": report.provider_id,
        "status": report.status,
        "is_success": result.ok,
        "response_time": result.response_ms,
        "error_kind": result.error_kind,
        "error_message": result.error,
        "stage": result.stage,
        "error_words": in_words(result.error_kind, result.error),
        "consecutive_failures": state.consecutive_failures if state else None,
        "uptime_percentage": state.uptime_percentage if state else None,
        "transition": list(transition) if transition else None,
        # What the dashboard row shows beside the status (one definition: the rollups').
        **{f"uptime_{window}": value for window, value in (report.uptime or {}).items()},
        "timestamp": report.timestamp.isoformat(),
        # The row's response-time sparkline redrawn with this check (one scaling: the server's).
        "sparkline": None if report.response_times is None else _sparkline(report.response_times),
    }


def _sparkline(values: Sequence[int | None]) -> dict[str, Any]:
    shape = rules.sparkline_shape(values, slots=rules.RECENT_CHECKS)
    return {
        "line": shape.line,
        "end": shape.end,
        "count": shape.count,
        "low": shape.low,
        "high": shape.high,
        "response_times": list(values),
    }


# The longest path a Unix socket address holds (108 bytes on Linux, with the final NUL).
_SOCKET_PATH_MAX = 107


def peer_directory(data_dir: Path) -> Path:
    """Where the workers of one instance meet: ``<data_dir>/run/events``, or, when socket paths
    there would be too long for a Unix socket address, a directory of this user's own under
    the system's temporary directory, named after the data directory."""
    preferred = data_dir.resolve() / "run" / "events"
    if len(str(preferred)) + 24 <= _SOCKET_PATH_MAX:
        return preferred
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"kurobara-{os.getuid()}" / digest


class PeerBus:
    """The workers of one machine's ``kurobara serve --workers N`` without Redis: each binds a
    Unix datagram socket in ``directory`` (readable by this user only) and sends every event of
    its own to each other socket there. A socket nobody listens on any more (a worker that
    died) is removed by the first sender that finds it so."""

    # How long the list of the other workers' sockets is used before the directory is read
    # again (a worker that starts meanwhile hears the events after that): not once per event.
    PEERS_SECONDS = 1.0

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path: Path | None = None
        self._sock: socket.socket | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._peers: list[Path] = []
        self._peers_read_at = -math.inf

    def _others(self) -> list[Path]:
        now = time.monotonic()
        if now - self._peers_read_at >= self.PEERS_SECONDS:
            self._peers = [p for p in self.directory.glob("*.sock") if p != self.path]
            self._peers_read_at = now
        return self._peers

    async def start(self, deliver: Callable[[dict[str, Any]], None]) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for folder in (self.directory.parent, self.directory):
            # Nobody else may replace the directory or listen in it.
            if folder.stat().st_uid != os.getuid():
                raise RuntimeError(f"{folder} belongs to another user")
        self.directory.chmod(0o700)
        self.path = self.directory / f"{os.getpid()}-{secrets.token_hex(4)}.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(self.path))
        sock.setblocking(False)
        self._sock = sock
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _PeerReceiver(deliver), sock=sock
        )
        self._transport = transport

    def send(self, event: dict[str, Any]) -> None:
        if self._sock is None:
            return
        data = json.dumps(event).encode()
        for peer in list(self._others()):
            try:
                self._sock.sendto(data, str(peer))
            except (ConnectionRefusedError, FileNotFoundError):
                peer.unlink(missing_ok=True)
                self._peers.remove(peer)
            except BlockingIOError:
                logger.warning("status event dropped for worker %s: its queue is full", peer.name)
            except OSError as exc:
                logger.warning("status event not passed to worker %s: %s", peer.name, exc)

    async def aclose(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self._sock = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)


class _PeerReceiver(asyncio.DatagramProtocol):
    def __init__(self, deliver: Callable[[dict[str, Any]], None]) -> None:
        self.deliver = deliver

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            event = json.loads(data)
        except ValueError:
            logger.warning("a malformed status event from another worker was dropped")
            return
        if isinstance(event, dict):
            self.deliver(event)


def _raise_if_cancelled() -> None:
    """Raise the cancellation a Redis command swallowed. redis-py (8.2) can catch a cancel in
    the middle of a command and return normally, its task still marked as cancelling: a loop
    around such a command would then wait for its next item instead of stopping."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class StatusEvents:
    def __init__(self, redis: Any = None, *, peers: PeerBus | None = None) -> None:
        self.redis = redis
        self.peers = peers
        self.channel = channel_for(redis) if redis is not None else CHANNEL
        self._subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_OUTBOX_BUFFER)
        self._tasks: list[asyncio.Task[None]] = []
        # True while the Redis subscription is up (events come back through it).
        self.relaying = False

    async def start(self) -> None:
        if self.peers is not None:
            await self.peers.start(self._deliver)
        self._tasks.append(asyncio.create_task(self._publish(), name="events-publish"))
        if self.redis is not None:
            self._tasks.append(asyncio.create_task(self._relay(), name="events-relay"))

    def emit(self, event: dict[str, Any]) -> None:
        """Hand an event over without waiting (called from the check path)."""
        try:
            self._outbox.put_nowait(event)
        except asyncio.QueueFull:
            logger.warning("event outbox full; dropped %s", event.get("type"))

    def on_report(self, report: CheckReport) -> None:
        self.emit(check_event(report))

    def on_start(self, provider_id: str) -> None:
        self.emit({"type": "testing", "provider_id": provider_id, "status": "testing"})

    async def _publish(self) -> None:
        while True:
            event = await self._outbox.get()
            if self.redis is None:
                self._deliver(event)
                if self.peers is not None:
                    self.peers.send(event)
                continue
            if not self.relaying:
                # The relay is reconnecting: this replica's browsers hear it from here.
                self._deliver(event)
            try:
                await self.redis.publish(self.channel, json.dumps(event))
            except Exception as exc:
                logger.warning("publishing a status event to Redis failed: %s", exc)
                if self.relaying:
                    self._deliver(event)
            _raise_if_cancelled()

    async def _relay(self) -> None:
        """Relay the channel to this replica's subscribers for as long as the replica runs:
        when the subscription breaks (Redis restarted, network cut) log it once, fall back to
        local delivery, and reconnect with a growing delay until Redis answers again."""
        delay = RECONNECT_MIN_SECONDS
        lost = False
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                _raise_if_cancelled()
                self.relaying = True
                if lost:
                    logger.warning("status events: Redis relay recovered")
                    lost = False
                delay = RECONNECT_MIN_SECONDS
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._deliver(json.loads(message["data"]))
                raise ConnectionError("subscription ended")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.relaying = False
                if not lost:
                    logger.warning(
                        "status events: Redis relay lost (%s); delivering locally, reconnecting",
                        exc,
                    )
                    lost = True
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    def _deliver(self, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any] | None]]:
        """A queue of events for one listener; ``None`` in it means the server is stopping."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(SUBSCRIBER_BUFFER)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def aclose(self) -> None:
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.peers is not None:
            await self.peers.aclose()


# A stream ends after this long and the browser's EventSource reconnects (after RETRY_MS):
# a server shutting down never waits long on open streams, and proxies' idle limits are moot.
STREAM_SECONDS = 55.0
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 2000


async def sse_stream(events: StatusEvents, *, is_disconnected: Any) -> AsyncIterator[str]:
    """Server-sent events: ``event: <type>`` and a JSON ``data:`` line per event, a comment as
    heartbeat, until the client leaves, the server stops or the stream's lifetime ends."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STREAM_SECONDS
    # The comment names the worker process answering (``kurobara serve --workers N``).
    yield f"retry: {RETRY_MS}\n: worker {os.getpid()}\n\n"
    async with events.subscribe() as queue:
        while loop.time() < deadline and not await is_disconnected():
            try:
                async with asyncio.timeout(min(HEARTBEAT_SECONDS, deadline - loop.time())):
                    event = await queue.get()
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if event is None:
                return
            yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
