"""An unreachable Redis: logins still work, throttled in-process, and /readyz says so."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from tests.factories import UserFactory


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"redis_url": f"redis://127.0.0.1:{closed_port()}/0"}


async def test_logins_fail_open_to_the_in_process_throttle(
    client: httpx.AsyncClient, users: UserFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kurobara.users.throttle")
    assert (await users.register("bob")).token
    bad = {"username": "bob", "password": "wrong-password-1"}
    codes = [(await client.post("/api/v1/auth/login", data=bad)).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    assert any("redis unreachable" in record.getMessage() for record in caplog.records)


async def test_readyz_shows_redis_unreachable(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["redis"] == "unreachable"
    assert response.json()["status"] == "degraded"
