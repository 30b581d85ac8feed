"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``KUROBARA_TEST_POSTGRES_URL`` (``.ci/run`` creates a fresh database and
exports it). Without it the PostgreSQL cases skip with a reason, unless
``KUROBARA_REQUIRE_SERVICES=1``, which turns the skip into a failure.

Under pytest-xdist (``make test`` runs ``-n``) each worker has resources of its own, derived
from those variables: the database ``<db>_gw<N>`` (created when the worker starts, dropped when
it ends) and the Redis database index ``<index> + N``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import ssl
from collections import defaultdict
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.datastructures import State

from kurobara.app import create_app
from kurobara.config import MIN_PASSWORD_HASH_MEMORY_KIB, MIN_PASSWORD_HASH_TIME_COST, Settings
from kurobara.db.engine import Database
from kurobara.db.migrate import upgrade
from kurobara.users.security import configure_password_hashing
from tests.factories import UserFactory

T = TypeVar("T")

REQUIRE_SERVICES = os.environ.get("KUROBARA_REQUIRE_SERVICES") == "1"
# "gw0", "gw1", ... in a pytest-xdist worker; None in a run without workers.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
BASE_POSTGRES_URL = os.environ.get("KUROBARA_TEST_POSTGRES_URL")
BASE_REDIS_URL = os.environ.get("KUROBARA_TEST_REDIS_URL")


def worker_postgres_url(base: str | None, worker: str | None) -> str | None:
    """The worker's own database beside the given one: ``.../kurobara_ci`` -> ``..._gw1``."""
    if base is None or worker is None:
        return base
    url = make_url(base)
    return url.set(database=f"{url.database}_{worker}").render_as_string(hide_password=False)


def worker_redis_url(base: str | None, worker: str | None) -> str | None:
    """The worker's own Redis database: the given index plus the worker's number (Redis has 16
    by default, so ``/12`` leaves room for four workers)."""
    if base is None or worker is None:
        return base
    parts = urlsplit(base)
    index = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    return urlunsplit(parts._replace(path=f"/{index}"))


POSTGRES_URL = worker_postgres_url(BASE_POSTGRES_URL, WORKER)
REDIS_URL = worker_redis_url(BASE_REDIS_URL, WORKER)

# One TLS context for every httpx client a test makes: building one per client loads the CA
# bundle again (about 30 ms of CPU), and readiness polls made one every 0.1 s.
TLS = ssl.create_default_context()

# The lowest password-hashing cost the settings allow (OWASP's minimum), for every app, CLI and
# server the tests start: argon2 at the production default was most of the API tests' time.
PASSWORD_HASHING_ENV = {
    "KUROBARA_PASSWORD_HASH_TIME_COST": str(MIN_PASSWORD_HASH_TIME_COST),
    "KUROBARA_PASSWORD_HASH_MEMORY_KIB": str(MIN_PASSWORD_HASH_MEMORY_KIB),
    "KUROBARA_PASSWORD_HASH_PARALLELISM": "1",
}


def pytest_configure(config: pytest.Config) -> None:
    for key, value in PASSWORD_HASHING_ENV.items():
        os.environ.setdefault(key, value)
    if WORKER is not None and POSTGRES_URL is not None:
        asyncio.run(_recreate_worker_database(drop_only=False))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Spread the browser modules through the run instead of leaving them last (their files sort
    last): they keep both cores busy with Chromium while most other tests wait on sockets, so
    run side by side the two overlap. Each module stays in one piece (its module-scoped
    servers start once per worker), the longest browser modules go first, and the order is
    the same on every xdist worker, as it must be."""
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    browser = sorted(
        (tests for tests in modules.values() if tests[0].get_closest_marker("browser")),
        key=len,
        reverse=True,
    )
    others = [tests for tests in modules.values() if not tests[0].get_closest_marker("browser")]
    if not browser or not others:
        return
    spread: list[pytest.Item] = []
    placed = 0
    for position, tests in enumerate(others):
        while placed < len(browser) and placed * len(others) <= position * len(browser):
            spread.extend(browser[placed])
            placed += 1
        spread.extend(tests)
    for tests in browser[placed:]:
        spread.extend(tests)
    items[:] = spread


def pytest_unconfigure(config: pytest.Config) -> None:
    if WORKER is not None and POSTGRES_URL is not None:
        asyncio.run(_recreate_worker_database(drop_only=True))


async def _recreate_worker_database(*, drop_only: bool) -> None:
    """Create (afresh) or drop this worker's database, connected to the given one. A server
    that cannot be reached is left to ``require_service`` to report when a test needs it."""
    assert BASE_POSTGRES_URL is not None
    assert POSTGRES_URL is not None
    name = make_url(POSTGRES_URL).database
    admin = create_async_engine(BASE_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop_only:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except (OSError, SQLAlchemyError):
        if not drop_only:
            raise
    finally:
        await admin.dispose()


def run_in_thread(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code that may itself be inside an event loop
    (session fixtures requested lazily from async fixtures)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def require_service(name: str, available: bool, hint: str) -> None:
    """Skip when a service is absent; fail instead when the run says services are required."""
    if available:
        return
    message = f"{name} not available ({hint})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}, but KUROBARA_REQUIRE_SERVICES=1")
    pytest.skip(message)


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """The test Redis database, empty before and after the test: throttle counters or events
    one test leaves there must not reach the next (a login throttled by another test's failures)."""
    require_service("Redis", bool(REDIS_URL), "set KUROBARA_TEST_REDIS_URL")
    assert REDIS_URL is not None
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL)
    await client.flushdb()
    try:
        yield REDIS_URL
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per run; each test gets a copy (faster than migrating each)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    run_in_thread(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> str:
    """Migrate the test database once per run, from an empty schema."""
    require_service("PostgreSQL", bool(POSTGRES_URL), "set KUROBARA_TEST_POSTGRES_URL")
    assert POSTGRES_URL is not None

    async def reset() -> None:
        engine = create_async_engine(POSTGRES_URL)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
        await upgrade(POSTGRES_URL)

    run_in_thread(reset())
    return POSTGRES_URL


async def truncate_postgres(url: str) -> None:
    """Empty every table and restart every sequence. A server kept running between tests
    (tests/web) may be inside a background job's transaction, which can lock what the emptying
    needs in another order: PostgreSQL then breaks the deadlock by failing one side, and when
    that is the emptying it is run again."""
    conn = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        for attempt in range(TRUNCATE_ATTEMPTS):
            try:
                await _empty_all(conn)
                return
            except asyncpg.DeadlockDetectedError:
                if attempt == TRUNCATE_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.1 * (attempt + 1))
    finally:
        await conn.close()


TRUNCATE_ATTEMPTS = 5


async def _empty_all(conn: asyncpg.Connection) -> None:
    """``DELETE`` from every table with foreign keys unchecked (``session_replication_role``,
    which the test role may set: ``postgres`` in ``.ci/run``), in one round trip. A test leaves
    a few rows; deleting them takes a few milliseconds where a ``TRUNCATE`` of every table (new
    files for each table and index) took 0.1 s, 0.4 s under the suite's load."""
    tables = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename <> 'alembic_version'"
    )
    sequences = await conn.fetch(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
    )
    statements = ["SET LOCAL session_replication_role = replica"]
    statements += [f'DELETE FROM "{row[0]}"' for row in tables]
    if sequences:
        statements.append(
            "SELECT " + ", ".join(f"setval('\"{row[0]}\"', 1, false)" for row in sequences)
        )
    async with conn.transaction():
        # The simple query protocol (no arguments) takes several statements at once.
        await conn.execute("; ".join(statements))


@contextlib.asynccontextmanager
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The body of ``db_url``, for conftests that override it for some tests."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "kurobara.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    # Empty from the start (a fresh schema) and after every test, so once per test is enough.
    url: str = request.getfixturevalue("postgres_schema")
    try:
        yield url
    finally:
        await truncate_postgres(url)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database: a fresh SQLite file, or the PostgreSQL test database
    (migrated from an empty schema, truncated after each test)."""
    async with empty_database(request, tmp_path) as url:
        yield url


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def settings(db_url: str, tmp_path: Path, settings_overrides: dict[str, object]) -> Settings:
    values: dict[str, object] = {
        "database_url": db_url,
        "data_dir": tmp_path,
        "builtin_providers": False,
        "monitor_enabled": False,
        **settings_overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# Building an app is ~0.25 s of CPU (FastAPI resolves every route's dependencies, at creation
# and again at the first request), more than most API tests take. An app keeps nothing of a
# run outside ``app.state``, which its lifespan fills from ``app.state.settings``, so a test
# takes an idle app built from the same settings that ``create_app`` itself reads and gives it a
# fresh state. Those settings are listed here; tests/test_app_reuse.py checks that
# ``create_app`` reads no other.
APP_BUILD_SETTINGS = frozenset(
    {
        "password_hash_time_cost",
        "password_hash_memory_kib",
        "password_hash_parallelism",
        "max_body_bytes",
        "import_max_bytes",
        "upload_max_bytes",
        "trusted_proxies",
    }
)
_IDLE_APPS: dict[str, list[FastAPI]] = defaultdict(list)


def _app_shape(settings: Settings) -> str:
    return settings.model_dump_json(include=set(APP_BUILD_SETTINGS))


@contextlib.asynccontextmanager
async def running_app(settings: Settings, **state: Any) -> AsyncIterator[FastAPI]:
    """An app for these settings, its lifespan entered, with ``state`` set before it starts
    (e.g. a test clock); reused afterwards by the next test of the same settings shape."""
    idle = _IDLE_APPS[_app_shape(settings)]
    if idle:
        application = idle.pop()
        configure_password_hashing(settings)
        application.state = State({"settings": settings})
    else:
        application = create_app(settings)
    for name, value in state.items():
        setattr(application.state, name, value)
    async with application.router.lifespan_context(application):
        yield application
    idle.append(application)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[object]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://kurobara.test") as c:
        yield c


@pytest.fixture
def db(app: object) -> Database:
    database: Database = app.state.db  # type: ignore[attr-defined]
    return database


@pytest.fixture
def users(client: httpx.AsyncClient, app: object) -> UserFactory:
    return UserFactory(client, app)
