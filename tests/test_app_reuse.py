"""The tests reuse an idle app for every test whose settings agree on what ``create_app``
reads (``tests/conftest.py``). That is only right while ``create_app`` reads no other setting and
keeps nothing of a run outside ``app.state``: these tests say so. So do the two that follow
a fresh app through what it does right after start-up."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import fastapi.routing
import httpx
import pytest

from kurobara.app import create_app
from kurobara.config import Settings
from kurobara.db.migrate import upgrade
from tests.conftest import APP_BUILD_SETTINGS, running_app

ACCOUNT = {"username": "reader", "email": "reader@example.org", "password": "pw-reader-123"}

READ: set[str] = set()


class RecordingSettings(Settings):
    """Settings that remember which of their fields were read."""

    def __getattribute__(self, name: str) -> Any:
        if name in Settings.model_fields:
            READ.add(name)
        return super().__getattribute__(name)


def test_create_app_reads_only_the_settings_an_app_is_reused_by(tmp_path: Path) -> None:
    settings = RecordingSettings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, builtin_providers=False, monitor_enabled=False
    )
    READ.clear()
    create_app(settings)
    assert READ, "the recording saw no read at all"
    assert READ <= APP_BUILD_SETTINGS, sorted(READ - APP_BUILD_SETTINGS)


async def test_a_reused_app_serves_each_run_its_own_database_and_state(tmp_path: Path) -> None:
    """One idle app, run twice on two databases and data directories: each run answers from its
    own, OPDS included (its state used to be made at creation, so a reused app lost it)."""
    apps = []
    for name in ("first", "second"):
        data_dir = tmp_path / name
        data_dir.mkdir()
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=data_dir, builtin_providers=False, monitor_enabled=False
        )
        await upgrade(settings.resolved_database_url)
        async with running_app(settings) as application:
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://k.test") as client:
                registered = await client.post("/api/v1/auth/register", json=ACCOUNT)
                assert registered.status_code == 201, registered.text  # a new database each run
                feed = await client.get("/opds", auth=(ACCOUNT["username"], ACCOUNT["password"]))
                assert feed.status_code == 200, feed.text
        apps.append(application)
    assert apps[0] is apps[1]


async def test_routes_are_resolved_before_the_first_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh app routes one request through every router right after start-up, so that the
    first real request does not resolve any route's dependencies (FastAPI does it lazily, at
    the first match: it was ~100 ms on a fresh server's first search, bench/search.py)."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, builtin_providers=False, monitor_enabled=False
    )
    await upgrade(settings.resolved_database_url)
    application = create_app(settings)
    resolved: list[str] = []
    resolve = fastapi.routing.get_dependant

    def counting(*args: Any, **kwargs: Any) -> Any:
        resolved.append(getattr(kwargs.get("call"), "__name__", "?"))
        return resolve(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "get_dependant", counting)
    async with application.router.lifespan_context(application):
        await application.state.routes_warmed
        warmed = len(resolved)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://k.test") as client:
            for path in ("/api/v1/search/stream?q=x", "/api/v1/favorites/", "/opds", "/library"):
                response = await client.get(path)
                assert response.status_code in (401, 303), (path, response.status_code)
    assert warmed > 50, "the warm-up resolved the routes"
    assert resolved[warmed:] == []


async def test_start_up_objects_leave_the_collectors_view_until_shutdown(tmp_path: Path) -> None:
    """Once started (and warmed), the app freezes what start-up made: a full collection then
    walks only what serving allocated since. Shutdown gives those objects back."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, builtin_providers=False, monitor_enabled=False
    )
    await upgrade(settings.resolved_database_url)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await application.state.routes_warmed
        assert gc.get_freeze_count() > 50_000  # modules, classes, routes, models
    assert gc.get_freeze_count() == 0
