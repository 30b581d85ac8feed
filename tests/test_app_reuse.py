"""The tests reuse an idle app for every test whose settings agree on what ``create_app``
reads (``tests/conftest.py``). That is only right while ``create_app`` reads no other setting and
keeps nothing of a run outside ``app.state``: these tests say so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

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
