"""``kurobara serve --workers 2`` as a user runs it (a real subprocess and its two worker
processes), on SQLite and PostgreSQL, without Redis: either worker answers, a check one worker
runs reaches the live streams of both, and login attempts count across the workers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kurobara.monitoring.events import peer_directory
from kurobara.providers.fakes.madara import FakeMadaraSite
from tests.conftest import PASSWORD_HASHING_ENV, TLS
from tests.factories import PASSWORD, write_providers_file
from tests.test_serve import free_port, run_serve

pytestmark = pytest.mark.timeout(300)  # three interpreters start, on a loaded machine too

WORKERS = 2
# Far more streams than a fair split needs before both workers have one.
MAX_STREAMS = 40


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite() as running:
        yield running


def sockets_of_workers(data_dir: Path) -> list[Path]:
    directory = peer_directory(data_dir)
    return sorted(directory.glob("*.sock")) if directory.is_dir() else []


@pytest.fixture
def served(db_url: str, tmp_path: Path, site: FakeMadaraSite) -> Iterator[str]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("KUROBARA_")}
    env |= {
        "KUROBARA_DATABASE_URL": db_url,
        "KUROBARA_DATA_DIR": str(tmp_path),
        "KUROBARA_BUILTIN_PROVIDERS": "false",
        "KUROBARA_MONITOR_ENABLED": "false",
        "KUROBARA_CHECK_TIMEOUT": "20",
        "KUROBARA_PROVIDERS_FILE": str(
            write_providers_file(tmp_path / "providers.yaml", [site.definition()])
        ),
        **PASSWORD_HASHING_ENV,
    }
    log_path = tmp_path / "serve.log"
    proc = run_serve(tmp_path, env, "--port", str(port), "--workers", str(WORKERS))
    base = f"http://127.0.0.1:{port}"
    try:
        # Ready when every worker has started: each binds its socket for the others' events.
        deadline = time.monotonic() + 120
        while len(sockets_of_workers(tmp_path)) < WORKERS or not _ready(base):
            assert proc.poll() is None, log_path.read_text()
            if time.monotonic() > deadline:
                pytest.fail("the workers did not start:\n" + log_path.read_text())
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # Stopped cleanly, the workers take their sockets with them.
    assert sockets_of_workers(tmp_path) == [], log_path.read_text()


def _ready(base: str) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return httpx.get(f"{base}/readyz", timeout=2, verify=TLS).status_code == 200
    return False


def token(base: str, username: str) -> dict[str, str]:
    with httpx.Client(base_url=base, timeout=30, verify=TLS) as client:
        creds = {"username": username, "email": f"{username}@example.org", "password": PASSWORD}
        assert client.post("/api/v1/auth/register", json=creds).status_code == 201
        login = client.post("/api/v1/auth/login", data={"username": username, "password": PASSWORD})
        assert login.status_code == 200, login.text
        return {"Authorization": f"Bearer {login.json()['access_token']}"}


class Stream:
    """One browser's live stream, on its own connection: which worker answers it, and the
    ``check`` events it has received."""

    def __init__(self) -> None:
        self.worker: str | None = None
        self.checks: list[dict[str, Any]] = []
        self.opened = asyncio.Event()
        self.checked = asyncio.Event()

    async def follow(self, base: str, headers: dict[str, str]) -> None:
        async with (
            httpx.AsyncClient(base_url=base, timeout=60, verify=TLS) as client,
            client.stream("GET", "/api/v1/providers/events", headers=headers) as stream,
        ):
            assert stream.status_code == 200
            kind = ""
            async for line in stream.aiter_lines():
                if line.startswith(": worker "):
                    self.worker = line.removeprefix(": worker ")
                    self.opened.set()
                elif line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: ") and kind == "check":
                    self.checks.append(json.loads(line.removeprefix("data: ")))
                    self.checked.set()


@contextlib.asynccontextmanager
async def streams_on_every_worker(
    base: str, headers: dict[str, str]
) -> AsyncIterator[list[Stream]]:
    """Open streams, a few at a time, until each worker answers at least one."""
    streams: list[Stream] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        while len({s.worker for s in streams}) < WORKERS:
            assert len(streams) < MAX_STREAMS, f"all {len(streams)} streams on one worker"
            batch = [Stream() for _ in range(4)]
            tasks += [asyncio.create_task(s.follow(base, headers)) for s in batch]
            async with asyncio.timeout(30):
                await asyncio.gather(*(s.opened.wait() for s in batch))
            streams += batch
        yield streams
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_two_workers_share_live_events_and_the_login_limit(
    served: str, site: FakeMadaraSite
) -> None:
    # One test, one instance: each start of two workers costs three interpreters.
    admin = await asyncio.to_thread(token, served, "alice")
    async with streams_on_every_worker(served, admin) as streams:
        async with httpx.AsyncClient(base_url=served, timeout=60, verify=TLS) as client:
            pressed = await client.post(f"/api/v1/providers/{site.name}/test", headers=admin)
        assert pressed.status_code == 200, pressed.text
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await asyncio.gather(*(s.checked.wait() for s in streams))
    assert len({s.worker for s in streams}) == WORKERS
    for stream in streams:
        [check] = stream.checks
        assert (check["provider_id"], check["is_success"]) == (site.name, True)

    assert await asyncio.to_thread(wrong_logins, served, 6) == [401] * 5 + [429]


def wrong_logins(base: str, count: int) -> list[int]:
    """Wrong passwords for alice, each on a connection of its own, so that they reach both
    workers; the answers. The default limit is 5 attempts a window, however they are shared."""
    answers = []
    for _ in range(count):
        with httpx.Client(base_url=base, timeout=30, verify=TLS) as client:
            answer = client.post(
                "/api/v1/auth/login", data={"username": "alice", "password": "wrong-password"}
            )
            answers.append(answer.status_code)
    return answers
