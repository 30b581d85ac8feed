"""`kurobara library update` as an admin runs it: progress, then the outcome table."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from typer.testing import CliRunner

from kurobara.cli import app as cli
from kurobara.config import Settings
from tests.factories import UserFactory
from tests.updates.conftest import Library


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "KUROBARA_DATABASE_URL": settings.resolved_database_url,
        "KUROBARA_DATA_DIR": str(settings.data_dir),
        "KUROBARA_BUILTIN_PROVIDERS": "false",
        "KUROBARA_PROVIDERS_FILE": str(settings.providers_file),
        "KUROBARA_CHECK_TIMEOUT": "15",  # generous: no test here waits one out
        "COLUMNS": "200",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("env")
async def test_update_all_prints_each_mangas_outcome(
    client: httpx.AsyncClient, users: UserFactory, library: Library
) -> None:
    bob = await users.bob()
    manga = await library.add(bob, "site-a", library.pick("site-a"))
    broken = await library.add(bob, "site-b", library.pick("site-b"))
    library.sites["site-b"].set_fault("layout")
    runner = CliRunner()

    done = await asyncio.to_thread(runner.invoke, cli, ["library", "update", "--all"])
    refused = await asyncio.to_thread(runner.invoke, cli, ["library", "update"])

    assert done.exit_code == 0, done.output
    rows = {line.split("│")[1].strip(): line for line in done.output.splitlines()
            if line.count("│") > 3}  # fmt: skip
    assert "no_change" in rows[manga["title"]]
    assert "failed" in rows[broken["title"]]
    assert "parse" in rows[broken["title"]]
    assert "1 failed" in done.output
    assert refused.exit_code == 2
