"""Browser-test fixtures: a real ``kurobara serve`` on a free loopback port against the test
database (SQLite and PostgreSQL, through ``db_url``), and Debian's Chromium driven by Playwright's
async API (it shares pytest-asyncio's loop; the sync API would fight it).

Every page fixture records screenshots under ``test-artifacts/screenshots/<test>/NN-<page>.png``
(``await shots("login")``; the SQLite run's only, when a test runs on both databases), adds one
of the last state when the test fails, and fails the test on any JavaScript error or console
error.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.conftest import PASSWORD_HASHING_ENV, TLS, empty_database, require_service
from tests.web.forkserver import FORKS, ForkedProcess

WAIT_MS = 20_000  # Playwright's waits and expect(), for every browser test

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
        return httpx.Client(base_url=self.url, timeout=10, verify=TLS)

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


def start_server(
    db_url: str, directory: Path, server_env: dict[str, str]
) -> tuple[ForkedProcess, Server]:
    """``kurobara serve`` as a user runs it (forked ready-imported: ``tests/web/forkserver.py``),
    ready; the caller stops it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KUROBARA_")} | {
        "KUROBARA_DATABASE_URL": db_url,
        "KUROBARA_DATA_DIR": str(directory),
        "KUROBARA_BUILTIN_PROVIDERS": "false",
        "KUROBARA_MONITOR_ENABLED": "false",
        **PASSWORD_HASHING_ENV,
        **server_env,
    }
    for _ in range(3):
        # The free port is free when asked; another process may bind it before the server does
        # (an outgoing connection takes its local port from the same range): then another one.
        port = free_port()
        served = Server(url=f"http://127.0.0.1:{port}", log=directory / "serve.log")
        proc = FORKS.start(["serve", "--port", str(port)], env, directory, served.log)
        try:
            _wait_until_ready(proc, served.url, served.log)
        except PortTaken:
            stop_server(proc)
            continue
        except BaseException:
            stop_server(proc)
            raise
        return proc, served
    pytest.fail(
        f"three free ports were taken before the server bound them:\n{served.log.read_text()}"
    )


def stop_server(proc: ForkedProcess) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@dataclass
class ServerPool:
    """The default-configured servers of one test module, one per database, kept running from
    test to test: ``db_url`` empties the database before each test instead. Starting a server
    took longer than most browser tests."""

    directory: Path
    template: Path
    running: dict[str, tuple[ForkedProcess, Server]] = field(default_factory=dict)

    @property
    def sqlite_path(self) -> Path:
        return self.directory / "kurobara.db"

    def empty_sqlite(self) -> str:
        """The pool's SQLite file, reset to the migrated, empty template. The backup API copies
        into the file under SQLite's own locking, so the server keeps its connections."""
        if not self.sqlite_path.exists():
            shutil.copy(self.template, self.sqlite_path)
        else:
            with (
                contextlib.closing(sqlite3.connect(self.template)) as source,
                contextlib.closing(sqlite3.connect(self.sqlite_path, timeout=30)) as target,
            ):
                source.backup(target)
        return f"sqlite+aiosqlite:///{self.sqlite_path}"

    def server(self, db_url: str) -> Server:
        if db_url in self.running:
            proc, served = self.running[db_url]
            if proc.poll() is None:
                return served
            del self.running[db_url]
        directory = self.directory / f"server-{len(self.running) + 1}"
        directory.mkdir(exist_ok=True)
        self.running[db_url] = start_server(db_url, directory, {})
        return self.running[db_url][1]

    def stop(self) -> None:
        for proc, _ in self.running.values():
            stop_server(proc)
        self.running.clear()


@pytest.fixture(scope="module")
def server_pool(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[ServerPool]:
    pool = ServerPool(directory=tmp_path_factory.mktemp("servers"), template=sqlite_template)
    try:
        yield pool
    finally:
        pool.stop()


def _shares_a_server(request: pytest.FixtureRequest) -> bool:
    """A test of the default server shares its module's; one with ``server_env`` overrides
    gets its own, since its start-up may write what emptying the database would take away."""
    return "server" in request.fixturenames and not request.getfixturevalue("server_env")


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """As in tests/conftest.py; a test on the shared SQLite server gets that server's file,
    emptied."""
    if request.param == "sqlite" and _shares_a_server(request):
        pool: ServerPool = request.getfixturevalue("server_pool")
        yield pool.empty_sqlite()
        return
    async with empty_database(request, tmp_path) as url:
        yield url


@pytest.fixture
def server(
    db_url: str, tmp_path: Path, server_env: dict[str, str], request: pytest.FixtureRequest
) -> Iterator[Server]:
    """``python -m kurobara serve`` as a user runs it against ``db_url``: the module's shared
    server, or with ``server_env`` overrides the test's own, torn down before ``db_url``
    cleans up."""
    if not server_env:
        pool: ServerPool = request.getfixturevalue("server_pool")
        yield pool.server(db_url)
        return
    proc, served = start_server(db_url, tmp_path, server_env)
    try:
        yield served
    finally:
        stop_server(proc)


class PortTaken(Exception):
    """The server exited because another process had bound its port first."""


def _wait_until_ready(proc: ForkedProcess, url: str, log: Path) -> None:
    # Generous: on a loaded machine (shared CI cores) start-up alone has taken over 30 s.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = log.read_text()
            if "address already in use" in output:
                raise PortTaken(url)
            pytest.fail("server exited:\n" + output)
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/readyz", timeout=1, verify=TLS).status_code == 200:
                return
        time.sleep(0.1)
    pytest.fail("server did not become ready:\n" + log.read_text())


@pytest.fixture
def chromium_path() -> Path:
    require_service("Chromium", CHROMIUM.exists(), f"install the chromium package ({CHROMIUM})")
    return CHROMIUM


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def session_browser() -> AsyncIterator[Any]:
    """One Chromium for the whole run; each test gets its own context (cookies, storage)."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:  # pragma: no cover - the dev extras install it
        require_service("Playwright", False, "pip install -e '.[dev]'")
        raise
    from playwright.async_api import expect

    # Waits end when the page is ready; the bound only decides how long a broken page takes to
    # fail. CI's machine is about twice as slow as a developer's under the full suite.
    expect.set_options(timeout=WAIT_MS)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Playwright objects belong to the loop that made them: a test using the session's Chromium
    # runs in the session's event loop.
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.asyncio(loop_scope="session"), append=False)


@pytest.fixture
def browser(chromium_path: Path, request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("session_browser")


@dataclass
class Screenshots:
    """Numbered full-page screenshots of one test, in the order it visits pages. ``record``
    is off for the PostgreSQL run of a test that runs on both databases: its pages are the
    SQLite run's, and a full-page capture costs Chromium about 0.35 s of CPU. A failure is
    captured whatever the database."""

    page: Any
    directory: Path
    record: bool = True
    taken: list[Path] = field(default_factory=list)

    async def __call__(self, name: str, *, always: bool = False) -> Path | None:
        if not (self.record or always):
            return None
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


@pytest.fixture
def reduced_motion() -> str:
    """Pages open as for a reader who asked for reduced motion: the stylesheets then stop their
    transitions and pulses, which Chromium otherwise paints frame by frame while a test waits
    (a third of its CPU on the Providers page). A test of motion itself asks for
    ``"no-preference"``."""
    return "reduce"


# A form answered with 401/403/422/429 is the page under test saying no, which Chromium also
# logs as a console error; a missing asset (404) or a server error (5xx) still fails the test.
EXPECTED_REFUSAL = re.compile(r"status of (400|401|403|409|422|429) ")


def _console_error(message: Any, errors: list[str]) -> None:
    if message.type == "error" and not EXPECTED_REFUSAL.search(message.text):
        errors.append(f"console error: {message.text}")


@pytest_asyncio.fixture(loop_scope="session")
async def page(
    browser: Any,
    server: Server,
    request: pytest.FixtureRequest,
    viewport: dict[str, int],
    color_scheme: str,
    reduced_motion: str,
) -> AsyncIterator[Any]:
    context = await browser.new_context(
        base_url=server.url,
        viewport=viewport,
        color_scheme=color_scheme,
        reduced_motion=reduced_motion,
    )
    context.set_default_timeout(WAIT_MS)
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    tab.on("console", lambda msg: _console_error(msg, errors))
    callspec = getattr(request.node, "callspec", None)
    database = callspec.params.get("db_url") if callspec is not None else None
    tab.shots = Screenshots(tab, screenshot_dir(request), record=database != "postgresql")
    try:
        yield tab
        failed = getattr(request.node, "report_call", None)
        if failed is not None and failed.failed:
            await tab.shots("failure", always=True)
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
        # The monitor's own interval rules, not the demo's one-minute checks; the sites' canary
        # searches, not full probes, whose five requests a test's short check timeout and
        # MangaDex's request rate do not allow (stages: tests/monitoring/test_probe_stages.py).
        path = write_providers_file(
            tmp_path / "providers", hub.sites.values(), check_interval=None, full_probes=False
        )
        yield FakeSites(hub=hub, providers_file=path)
    finally:
        hub.stop()
