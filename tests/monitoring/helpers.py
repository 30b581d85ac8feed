"""Small helpers shared by the monitoring tests."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import httpx
import uvicorn

from kurobara.app import create_app
from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.monitoring.models import ProviderStatus
from kurobara.monitoring.service import get_row
from tests.conftest import TLS


async def row(db: Database, provider_id: str) -> ProviderStatus:
    async with db.session() as session:
        return await get_row(db_session=session, provider_id=provider_id)


async def status_of(
    client: httpx.AsyncClient, headers: dict[str, str], provider_id: str
) -> dict[str, Any]:
    response = await client.get(f"/api/v1/providers/{provider_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def eventually(predicate: Callable[[], Awaitable[bool]], *, seconds: float = 5) -> None:
    """Wait for something another task does (not for a schedule: the clock is manual)."""
    for _ in range(int(seconds / 0.01)):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


class Steps(Protocol):
    """A monitor replica a test drives: ``Monitor`` itself, or one running in another loop."""

    async def step(self) -> Sequence[object]: ...


async def checked_in_ticks(*replicas: Steps, ticks: int = 3) -> int:
    """Checks the replicas ran, stepping them together until a tick finds nothing due."""
    total = 0
    for _ in range(ticks):
        reports = await asyncio.gather(*(replica.step() for replica in replicas))
        ran = sum(len(report) for report in reports)
        if ran == 0:
            break
        total += ran
    return total


class ServedApp:
    """The real app under uvicorn (lifespan on) in a thread, on a loopback port."""

    def __init__(self, settings: Settings) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(
            create_app(settings), log_level="warning", lifespan="on", timeout_graceful_shutdown=5
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()


def register(base_url: str, username: str) -> dict[str, str]:
    """A user on a served app; the bearer headers."""
    with httpx.Client(base_url=base_url, timeout=10, verify=TLS) as client:
        password = "correct-horse-battery"
        email = f"{username}@example.org"
        client.post(
            "/api/v1/auth/register",
            json={"username": username, "email": email, "password": password},
        )
        login = client.post("/api/v1/auth/login", data={"username": username, "password": password})
        token = login.json()["access_token"]
    return {"Authorization": f"Bearer {token}"}
