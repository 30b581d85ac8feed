"""Fixtures of the failover tests: two fake theme sites that both carry the shared series (same
titles and chapters under different ids), a movable clock, and helpers that drive the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kurobara.providers.fakes.catalog import SHARED_TITLES, FakeSeries
from kurobara.providers.fakes.madara import FakeMadaraSite
from kurobara.providers.fakes.mangathemesia import FakeMangaThemesiaSite
from kurobara.providers.fakes.server import FakeSite
from tests.factories import Persona, UserFactory, write_providers_file

LANTERNS, HERON = SHARED_TITLES


@pytest.fixture(scope="module")
def madara() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite(name="mangaread", catalog_size=6, shared=SHARED_TITLES) as running:
        yield running


@pytest.fixture(scope="module")
def themesia() -> Iterator[FakeMangaThemesiaSite]:
    with FakeMangaThemesiaSite(name="asura", catalog_size=6, shared=SHARED_TITLES) as running:
        yield running


@pytest.fixture(autouse=True)
def sites_up(madara: FakeMadaraSite, themesia: FakeMangaThemesiaSite) -> Iterator[None]:
    yield
    madara.set_fault("ok")
    themesia.set_fault("ok")


@pytest.fixture
def settings_overrides(
    madara: FakeMadaraSite, themesia: FakeMangaThemesiaSite, tmp_path: Path
) -> dict[str, object]:
    definitions = [
        madara.definition(name="MangaRead"),
        themesia.definition(name="Asura"),
    ]
    return {
        "providers_file": write_providers_file(tmp_path / "providers.yaml", definitions),
        "check_timeout": 15.0,  # generous: no test here waits one out (a loaded CI is slow)
        "search_timeout": 5.0,
    }


@pytest.fixture
async def alice(users: UserFactory) -> Persona:
    return await users.alice()


@pytest.fixture
async def bob(users: UserFactory) -> Persona:
    return await users.bob()


class MovableClock:
    """The app's clock, moved by the test: a provider stays down for days without sleeping."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def clock(app: Any) -> MovableClock:
    movable = MovableClock()
    app.state.clock = movable
    return movable


def series(site: FakeSite, title: str) -> FakeSeries:
    return next(s for s in site.catalog.series if s.title == title)


async def ok(response: httpx.Response, *codes: int) -> Any:
    assert response.status_code in (codes or (200,)), response.text
    return response.json() if response.content else None


async def import_manga(
    client: httpx.AsyncClient, who: Persona, provider_id: str, external_id: str
) -> dict[str, Any]:
    body = {"provider_id": provider_id, "external_id": external_id}
    answer = await client.post("/api/v1/manga/import", json=body, headers=who.headers)
    manga: dict[str, Any] = await ok(answer, 200, 201)
    return manga


async def link(
    client: httpx.AsyncClient, who: Persona, manga_id: str, provider_id: str, external_id: str
) -> httpx.Response:
    body = {"provider_id": provider_id, "external_id": external_id}
    return await client.post(f"/api/v1/manga/{manga_id}/sources", json=body, headers=who.headers)


async def on_both_sites(
    client: httpx.AsyncClient,
    who: Persona,
    madara: FakeMadaraSite,
    themesia: FakeMangaThemesiaSite,
    title: str = LANTERNS,
) -> dict[str, Any]:
    """``title`` imported from the Madara site and linked to its copy on the MangaThemesia
    site; the manga as the link answers it (``sources``: both)."""
    manga = await import_manga(client, who, "mangaread", series(madara, title).slug)
    linked: dict[str, Any] = await ok(
        await link(client, who, manga["id"], "asura", series(themesia, title).slug), 201
    )
    return linked


async def heron_in_library(
    client: httpx.AsyncClient, who: Persona, madara: FakeMadaraSite
) -> dict[str, Any]:
    heron = await import_manga(client, who, "mangaread", series(madara, HERON).slug)
    await ok(await client.post(f"/api/v1/library/{heron['id']}", headers=who.headers))
    return heron


async def disable_and_scan(client: httpx.AsyncClient, admin: Persona, provider_id: str) -> None:
    """An admin disables ``provider_id`` and scans for migrations at once."""
    await ok(
        await client.patch(
            f"/api/v1/providers/{provider_id}/status",
            json={"is_enabled": False},
            headers=admin.headers,
        )
    )
    await ok(await client.post("/api/v1/migrations/scan", headers=admin.headers))


async def chapters(client: httpx.AsyncClient, who: Persona, manga_id: str) -> dict[str, Any]:
    listing: dict[str, Any] = await ok(
        await client.get(f"/api/v1/manga/{manga_id}/chapters", headers=who.headers)
    )
    return listing


async def take_down(client: httpx.AsyncClient, admin: Persona, site: FakeSite) -> None:
    """Switch the site off and let the monitor see it: three failed checks make it ``down``."""
    site.set_fault("down")
    for _ in range(3):
        await ok(await client.post(f"/api/v1/providers/{site.name}/test", headers=admin.headers))
    rows = await ok(await client.get("/api/v1/providers/status", headers=admin.headers))
    assert {row["provider_id"]: row["status"] for row in rows}[site.name] == "down"


async def read_first(client: httpx.AsyncClient, who: Persona, manga_id: str, n: int) -> list[str]:
    """Mark the first ``n`` chapters read (up to the n-th); their numbers."""
    listed = (await chapters(client, who, manga_id))["chapters"]
    body = {"up_to": listed[n - 1]["id"]}
    await ok(
        await client.post(f"/api/v1/manga/{manga_id}/chapters/read", json=body, headers=who.headers)
    )
    return [c["number"] for c in listed[:n]]
