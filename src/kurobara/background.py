"""The loop every outbox deliverer shares: a pass now, then again when woken or after a nap."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any


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
        try:
            async with asyncio.timeout(poll_seconds):
                await wake.wait()
        except TimeoutError:
            pass
