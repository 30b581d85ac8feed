"""Downloads fixtures: a loopback fake Madara site behind a providers file, an app whose clock
moves only when a test moves it and whose own Downloader is off, and Downloaders driven step by
step (each may have an image proxy of its own, as another replica would)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from kurobara.config import Settings
from kurobara.db.types import utcnow
from kurobara.downloads.jobs import Downloader
from kurobara.images.cache import ImageCache
from kurobara.images.service import ImageProxy
from kurobara.images.tokens import ImageSigner
from kurobara.providers.fakes.madara import FakeMadaraSite
from tests.conftest import running_app
from tests.factories import Persona, UserFactory, write_providers_file
from tests.monitoring.conftest import ManualClock

PROVIDER = "mad"


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite(name=PROVIDER, slow_seconds=5) as running:
        yield running


@pytest.fixture(autouse=True)
def site_up(site: FakeMadaraSite) -> Iterator[None]:
    yield
    site.set_fault("ok")


@pytest.fixture
def settings_overrides(site: FakeMadaraSite, tmp_path: Path) -> dict[str, object]:
    return {
        "providers_file": write_providers_file(tmp_path / "providers.yaml", [site.definition()]),
        "check_timeout": 15.0,  # generous: no test here waits one out (a loaded CI is slow)
        # One failed check is "down": a test switches the site off and checks it once.
        "max_consecutive_failures": 1,
        "downloads_worker": False,
        "download_max_attempts": 2,
    }


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(utcnow())


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[FastAPI]:
    async with running_app(settings, clock=clock) as application:
        yield application


DownloaderFactory = Callable[..., Downloader]


@pytest.fixture
def downloaders(app: FastAPI, clock: ManualClock, tmp_path: Path) -> DownloaderFactory:
    """``downloaders("a")``: a Downloader named ``a`` of the app; ``own_proxy=True`` gives it an
    image proxy and cache of its own (another replica's), so its fetches are counted apart."""
    state = app.state

    def make(owner: str, *, own_proxy: bool = False, concurrency: int | None = None) -> Downloader:
        images = state.images
        if own_proxy:
            images = ImageProxy(
                signer=ImageSigner(state.secret_key),
                cache=ImageCache(tmp_path / f"cache-{owner}", max_bytes=64 * 1024 * 1024),
                http=state.http,
                registry=state.registry,
            )
        worker = Downloader(
            db=state.db,
            registry=state.registry,
            images=images,
            settings=state.settings,
            clock=clock,
            owner=owner,
        )
        if concurrency is not None:
            worker.concurrency = concurrency
        return worker

    return make


@pytest.fixture
async def alice(users: UserFactory) -> Persona:
    return await users.alice()


@pytest.fixture
async def bob(users: UserFactory) -> Persona:
    return await users.bob()


@dataclass
class Reader:
    """A manga of the fake site imported through the API, and its chapters."""

    client: httpx.AsyncClient
    site: FakeMadaraSite

    async def manga(self, who: Persona, index: int = 0) -> dict[str, Any]:
        slug = self.site.catalog.series[index].slug
        response = await self.client.post(
            "/api/v1/manga/import",
            json={"provider_id": PROVIDER, "external_id": slug},
            headers=who.headers,
        )
        assert response.status_code in (200, 201), response.text
        body: dict[str, Any] = response.json()
        return body

    async def chapters(self, who: Persona, manga_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/api/v1/manga/{manga_id}/chapters", headers=who.headers)
        assert response.status_code == 200, response.text
        chapters: list[dict[str, Any]] = response.json()["chapters"]
        return chapters

    async def first_chapter(self, who: Persona) -> tuple[dict[str, Any], dict[str, Any]]:
        """The first series imported, and its first chapter."""
        manga = await self.manga(who)
        return manga, (await self.chapters(who, manga["id"]))[0]

    async def usage(self, who: Persona) -> dict[str, Any]:
        response = await self.client.get("/api/v1/downloads/usage", headers=who.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def queue(self, who: Persona, *chapter_ids: str) -> list[dict[str, Any]]:
        response = await self.client.post(
            "/api/v1/downloads", json={"chapter_ids": list(chapter_ids)}, headers=who.headers
        )
        assert response.status_code == 201, response.text
        rows: list[dict[str, Any]] = response.json()
        return rows

    async def queue_of(self, who: Persona) -> list[dict[str, Any]]:
        response = await self.client.get("/api/v1/downloads", headers=who.headers)
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()
        return rows

    async def pages(self, who: Persona, manga_id: str, chapter_id: str) -> httpx.Response:
        return await self.client.get(
            f"/api/v1/manga/{manga_id}/chapters/{chapter_id}/pages", headers=who.headers
        )

    async def check(self, who: Persona) -> dict[str, Any]:
        """Run a health check of the site now (the monitor's view of it)."""
        response = await self.client.post(f"/api/v1/providers/{PROVIDER}/test", headers=who.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def page_count(self, index: int, chapter: dict[str, Any]) -> int:
        series = self.site.catalog.series[index]
        found = series.chapter(chapter["number"])
        assert found is not None
        return found.pages


@pytest.fixture
def reader(client: httpx.AsyncClient, site: FakeMadaraSite) -> Reader:
    return Reader(client=client, site=site)
