"""The loops the background components share: a periodic step (``PeriodicJob``), ticks that
start work while there is room (``tick_until_stopped``), and outbox delivery
(``deliver_until_stopped``). Each runs until its ``stopping`` event is set; a failed pass is
logged and retried, never fatal to the server."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any


async def nap(event: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less when ``event`` is set meanwhile."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        pass


class PeriodicJob(ABC):
    """A component with ``start()``/``stop()`` whose loop is ``while not stopping: await
    step()``, then a wait of ``interval_seconds``. Subclasses give ``step``, which tests call
    directly."""

    def __init__(self, *, name: str, logger: logging.Logger, interval_seconds: float) -> None:
        self.name = name
        self.logger = logger
        self.interval_seconds = interval_seconds
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def step(self) -> Any:
        """One pass of the job's work."""

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.logger.exception("%s step failed", self.name)
            await nap(self._stopping, self.interval_seconds)


async def tick_until_stopped(
    stopping: asyncio.Event,
    wake: asyncio.Event,
    tick: Callable[[], Awaitable[int]],
    has_room: Callable[[], bool] = lambda: True,
    *,
    idle_seconds: float,
    error_backoff_seconds: float,
    logger: logging.Logger,
    what: str,
) -> None:
    """Run ``tick`` (it answers how much work it started or did) until ``stopping`` is set:
    again at once while it does work and there is room for more (``has_room``; by default
    always), else when ``wake`` is set or after ``idle_seconds``. A failed tick is logged and
    retried after ``error_backoff_seconds``."""
    while not stopping.is_set():
        try:
            wake.clear()
            if await tick() and has_room():
                continue
            await nap(wake, idle_seconds)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("%s tick failed; retrying in %.0f s", what, error_backoff_seconds)
            await asyncio.sleep(error_backoff_seconds)


async def deliver_until_stopped(
    stopping: asyncio.Event,
    wake: asyncio.Event,
    deliver: Callable[[], Awaitable[Any]],
    *,
    poll_seconds: float,
    logger: logging.Logger,
    what: str,
) -> None:
    """Run ``deliver`` until ``stopping`` is set: at once when ``wake`` is set, else every
    ``poll_seconds``. A failed pass is logged and retried at the next one, never fatal."""
    while not stopping.is_set():
        wake.clear()
        try:
            await deliver()
        except Exception:
            logger.exception("%s pass failed", what)
        await nap(wake, poll_seconds)
