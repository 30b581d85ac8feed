"""Monitoring fixtures: fake ping sites behind a providers file, a manual clock injected into
the app, and a Monitor driven step by step."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI

from kurobara.config import Settings
from kurobara.monitoring.jobs import Monitor
from kurobara.providers.registry import KINDS
from tests.conftest import running_app
from tests.monitoring.sites import KIND, KIND_TARGET, PingSite

START = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


class ManualClock:
    """Time that moves only when a test moves it."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment


@pytest.fixture(autouse=True)
def ping_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(KINDS, KIND, KIND_TARGET)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def site_count() -> int:
    """Override in a module for more sites."""
    return 2


@pytest.fixture
def sites(site_count: int) -> Iterator[list[PingSite]]:
    started = [PingSite(name=f"site{i}", slow_seconds=5).start() for i in range(site_count)]
    yield started
    for site in started:
        site.stop()


@pytest.fixture
def site(sites: list[PingSite]) -> PingSite:
    return sites[0]


@pytest.fixture
def definitions(sites: list[PingSite]) -> list[dict[str, Any]]:
    """Override in a module: the providers file's entries (default: one per site)."""
    return [s.definition(s.name) for s in sites]


@pytest.fixture
def monitor_settings() -> dict[str, object]:
    """Override in a module to change monitoring settings."""
    return {}


@pytest.fixture
def settings_overrides(
    tmp_path: Path, definitions: list[dict[str, Any]], monitor_settings: dict[str, object]
) -> dict[str, object]:
    path = tmp_path / "providers.yaml"
    path.write_text(yaml.safe_dump({"providers": definitions}))
    return {
        "providers_file": path,
        # Generous: a module that waits a hung site out sets its own (a loaded CI is slow).
        "check_timeout": 10.0,
        "check_jitter_seconds": 0,
        "retry_interval_seconds": 60,
        **monitor_settings,
    }


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[FastAPI]:
    async with running_app(settings, clock=clock) as application:
        yield application


@pytest.fixture
async def monitor(app: FastAPI, clock: ManualClock) -> Monitor:
    """The app's checker driven by a Monitor whose loop is not started: tests call step()."""
    state = app.state
    return Monitor(
        db=state.db,
        registry=state.registry,
        http=state.http,
        settings=state.settings,
        clock=clock,
        checker=state.checker,
    )
