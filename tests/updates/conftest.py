"""Library update fixtures: two loopback fake sites (the ``html`` kind) behind a providers file,
an app whose clock only moves when a test moves it, an updater driven step by step, and
personas whose libraries hold imported manga."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from kurobara.config import Settings
from kurobara.db.types import utcnow
from kurobara.providers.fakes.html import FakeHtmlSite
from kurobara.updates.jobs import LibraryUpdater
from tests.conftest import running_app
from tests.factories import Persona, write_providers_file
from tests.monitoring.conftest import ManualClock

# Generous: no test here waits one out, and on a loaded machine an answer can take seconds.
TIMEOUT = 15.0


@pytest.fixture(scope="module")
def sites() -> Iterator[dict[str, FakeHtmlSite]]:
    started = {
        name: FakeHtmlSite(name=name, catalog_size=8, slow_seconds=5).start()
        for name in ("site-a", "site-b")
    }
    yield started
    for site in started.values():
        site.stop()


@pytest.fixture(autouse=True)
def healthy_sites(sites: dict[str, FakeHtmlSite]) -> Iterator[None]:
    yield
    for site in sites.values():
        site.set_fault("ok")


@pytest.fixture
def updates_settings() -> dict[str, object]:
    """Override in a module to change settings."""
    return {}


@pytest.fixture
def settings_overrides(
    sites: dict[str, FakeHtmlSite], tmp_path: Path, updates_settings: dict[str, object]
) -> dict[str, object]:
    definitions = [site.definition() for site in sites.values()]
    return {
        "providers_file": write_providers_file(tmp_path / "providers.yaml", definitions),
        "check_timeout": TIMEOUT,
        "check_jitter_seconds": 0,
        **updates_settings,
    }


@pytest.fixture
def clock() -> ManualClock:
    # Library entries are stamped with the real time; the test clock starts there.
    return ManualClock(utcnow())


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[FastAPI]:
    async with running_app(settings, clock=clock) as application:
        yield application


@pytest.fixture
def updater(app: FastAPI, clock: ManualClock) -> LibraryUpdater:
    """An updater of the app whose loop is not started: tests call ``step()``/``drain()``.
    It listens to the app's checker, as the one ``serve`` starts does."""
    state = app.state
    worker = LibraryUpdater(
        db=state.db, registry=state.registry, settings=state.settings, clock=clock, owner="one"
    )
    state.checker.add_listener(worker.on_check)
    return worker


@dataclass
class Library:
    """Adds manga of the fake sites to a persona's library through the API."""

    client: httpx.AsyncClient
    sites: dict[str, FakeHtmlSite]

    async def add(
        self, who: Persona, site: str, index: int, *, favorite: bool = False
    ) -> dict[str, Any]:
        series = self.sites[site].catalog.series[index]
        imported = await self.client.post(
            "/api/v1/manga/import",
            json={"provider_id": site, "external_id": series.slug},
            headers=who.headers,
        )
        assert imported.status_code in (200, 201), imported.text
        manga: dict[str, Any] = imported.json()
        path = f"/api/v1/favorites/{manga['id']}" if favorite else f"/api/v1/library/{manga['id']}"
        added = await self.client.post(path, headers=who.headers)
        assert added.status_code in (200, 201), added.text
        return manga

    def pick(self, site: str, nth: int = 0, *, completed: bool = False) -> int:
        """The index of the site's ``nth`` series that is (not) completed."""
        catalog = self.sites[site].catalog.series
        found = [i for i, s in enumerate(catalog) if (s.status == "completed") == completed]
        return found[nth]

    def grow(self, site: str, index: int) -> str:
        """Publish a chapter of the site's ``index``-th series; its number."""
        series = self.sites[site].catalog.series[index]
        return self.sites[site].add_chapter(series.slug).number


@pytest.fixture
def library(client: httpx.AsyncClient, sites: dict[str, FakeHtmlSite]) -> Library:
    return Library(client=client, sites=sites)


async def update_now(
    client: httpx.AsyncClient, who: Persona, updater: LibraryUpdater, **params: str
) -> dict[str, Any]:
    """A minute later, POST an update run, let the updater finish it, and return the run."""
    updater.clock.advance(minutes=1)  # type: ignore[attr-defined]
    started = await client.post("/api/v1/library/updates", params=params, headers=who.headers)
    assert started.status_code == 202, started.text
    await updater.drain()
    return await run_status(client, who, started.json()["run_id"])


async def run_status(client: httpx.AsyncClient, who: Persona, run_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/library/updates/{run_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def outcomes(run: dict[str, Any]) -> dict[str, tuple[str, int]]:
    """manga title -> (outcome, new chapters)."""
    return {o["manga_title"]: (o["outcome"], o["new_chapters"]) for o in run["outcomes"]}
