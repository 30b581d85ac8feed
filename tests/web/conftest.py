"""Browser-test fixtures: a real ``kurobara serve`` on a free loopback port against the test
database (SQLite and PostgreSQL, through ``db_url``), and Debian's Chromium driven by Playwright's
async API (it shares pytest-asyncio's loop; the sync API would fight it).

Every page fixture records screenshots under ``test-artifacts/screenshots/<test>/NN-<page>.png``
(``await shots("login")``), adds one of the last state when the test fails, and fails the test
on any JavaScript error or console error.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD_HASHING_ENV, require_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Keep each phase's report on the item, so the page fixture knows the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra ``KUROBARA_*`` variables for the served instance; override in a test module."""
    return {}


@dataclass
class Server:
    url: str
    log: Path

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def register(self, username: str, password: str) -> None:
        """An account made through the API, for tests whose subject is not registration."""
        with self.api() as client:
            response = client.post(
                "/api/v1/auth/register",
                json={
                    "username": username,
                    "email": f"{username}@example.org",
                    "password": password,
                },
            )
            assert response.status_code == 201, response.text


@pytest.fixture
def server(db_url: str, tmp_path: Path, server_env: dict[str, str]) -> Iterator[Server]:
    """``python -m kurobara serve`` as a user runs it, torn down before ``db_url`` cleans up."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("KUROBARA_")} | {
        "KUROBARA_DATABASE_URL": db_url,
        "KUROBARA_DATA_DIR": str(tmp_path),
        "KUROBARA_BUILTIN_PROVIDERS": "false",
        "KUROBARA_MONITOR_ENABLED": "false",
        **PASSWORD_HASHING_ENV,
        **server_env,
    }
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kurobara", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(proc, url, log_path)
            yield Server(url=url, log=log_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _wait_until_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("server exited:\n" + log.read_text())
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    pytest.fail("server did not become ready:\n" + log.read_text())


@pytest.fixture
def chromium_path() -> Path:
    require_service("Chromium", CHROMIUM.exists(), f"install the chromium package ({CHROMIUM})")
    return CHROMIUM


@pytest.fixture
async def browser(chromium_path: Path) -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:  # pragma: no cover - the dev extras install it
        require_service("Playwright", False, "pip install -e '.[dev]'")
        raise
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@dataclass
class Screenshots:
    """Numbered full-page screenshots of one test, in the order it visits pages."""

    page: Any
    directory: Path
    taken: list[Path] = field(default_factory=list)

    async def __call__(self, name: str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{len(self.taken) + 1:02d}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


def screenshot_dir(request: pytest.FixtureRequest) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    directory = request.config.rootpath / "test-artifacts" / "screenshots" / name
    shutil.rmtree(directory, ignore_errors=True)
    return directory


@pytest.fixture
def viewport() -> dict[str, int]:
    return DESKTOP


@pytest.fixture
def color_scheme() -> str:
    return "light"


# A form answered with 401/403/422/429 is the page under test saying no, which Chromium also
# logs as a console error; a missing asset (404) or a server error (5xx) still fails the test.
EXPECTED_REFUSAL = re.compile(r"status of (400|401|403|409|422|429) ")


def _console_error(message: Any, errors: list[str]) -> None:
    if message.type == "error" and not EXPECTED_REFUSAL.search(message.text):
        errors.append(f"console error: {message.text}")


@pytest.fixture
async def page(
    browser: Any,
    server: Server,
    request: pytest.FixtureRequest,
    viewport: dict[str, int],
    color_scheme: str,
) -> AsyncIterator[Any]:
    context = await browser.new_context(
        base_url=server.url, viewport=viewport, color_scheme=color_scheme
    )
    context.set_default_timeout(10_000)
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    tab.on("console", lambda msg: _console_error(msg, errors))
    tab.shots = Screenshots(tab, screenshot_dir(request))
    try:
        yield tab
        failed = getattr(request.node, "report_call", None)
        if failed is not None and failed.failed:
            await tab.shots("failure")
        assert not errors, "\n".join(errors)
    finally:
        await context.close()


@pytest.fixture
def shots(page: Any) -> Screenshots:
    screens: Screenshots = page.shots
    return screens


@dataclass
class FakeSites:
    """The demo's fake sites (one per provider kind) and the providers file that points at them."""

    hub: Any
    providers_file: Path

    def site(self, kind: str) -> Any:
        return next(site for site in self.hub.sites.values() if site.kind == kind)

    def env(self, **extra: str) -> dict[str, str]:
        """``server_env`` for an instance that uses these sites."""
        return {"KUROBARA_PROVIDERS_FILE": str(self.providers_file), **extra}


@pytest.fixture
def fake_sites(tmp_path: Path) -> Iterator[FakeSites]:
    """Local fake provider sites, as ``kurobara demo`` runs them. A test module uses them with
    ``def server_env(fake_sites): return fake_sites.env()``."""
    from kurobara.providers.fakes.demo import start_hub, write_providers_file

    hub = start_hub()
    try:
        for site in hub.sites.values():
            site.slow_seconds = 5
        # The monitor's own interval rules, not the demo's one-minute checks.
        path = write_providers_file(tmp_path / "providers", hub.sites.values(), check_interval=None)
        yield FakeSites(hub=hub, providers_file=path)
    finally:
        hub.stop()
