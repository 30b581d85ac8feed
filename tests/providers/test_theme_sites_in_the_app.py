"""The theme kinds through the whole app (HTTP API, real SQLite and PostgreSQL): a fake Madara
site switched on its hub to "chapters via the old endpoint only" keeps working — import, chapter
list, pages — and a fake MangaThemesia site with script-injected pages reads the same way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kurobara.providers.fakes.hub import FakeSiteHub
from kurobara.providers.fakes.madara import FakeMadaraSite
from kurobara.providers.fakes.mangathemesia import FakeMangaThemesiaSite
from tests.conftest import TLS
from tests.factories import Persona, UserFactory, write_providers_file


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeSiteHub]:
    panel = FakeSiteHub(
        [FakeMadaraSite(name="theme-madara"), FakeMangaThemesiaSite(name="theme-ts")]
    ).start()
    yield panel
    panel.stop()


@pytest.fixture(autouse=True)
def default_variants(hub: FakeSiteHub) -> Iterator[None]:
    yield
    for site in hub.sites.values():
        for name, values in site.VARIANTS.items():
            site.set_variant(name, values[0])


@pytest.fixture
def settings_overrides(hub: FakeSiteHub, tmp_path: Path) -> dict[str, object]:
    definitions = [site.definition() for site in hub.sites.values()]
    return {
        "providers_file": write_providers_file(tmp_path / "providers.yaml", definitions),
        "check_timeout": 20,  # generous: no test here waits one out (a loaded CI is slow)
    }


async def read_first_chapter(
    client: httpx.AsyncClient, who: Persona, provider_id: str, slug: str
) -> tuple[list[str], int]:
    imported = await client.post(
        "/api/v1/manga/import",
        json={"provider_id": provider_id, "external_id": slug},
        headers=who.headers,
    )
    assert imported.status_code in (200, 201), imported.text
    manga_id = imported.json()["id"]
    listed = await client.get(f"/api/v1/manga/{manga_id}/chapters", headers=who.headers)
    assert listed.status_code == 200, listed.text
    chapters = listed.json()["chapters"]
    assert not listed.json()["stale"]
    pages = await client.get(
        f"/api/v1/manga/{manga_id}/chapters/{chapters[0]['id']}/pages", headers=who.headers
    )
    assert pages.status_code == 200, pages.text
    return [c["number"] for c in chapters], pages.json()["page_count"]


async def test_madara_switched_to_the_old_endpoint_keeps_working(
    client: httpx.AsyncClient, users: UserFactory, hub: FakeSiteHub
) -> None:
    site = hub.sites["theme-madara"]
    async with httpx.AsyncClient(base_url=hub.url, verify=TLS) as panel:
        switched = await panel.post(
            "/sites/theme-madara/variant", json={"name": "chapters", "value": "ajax_old"}
        )
        refused = await panel.post(
            "/sites/theme-madara/variant", json={"name": "chapters", "value": "nonsense"}
        )
        page = await panel.get("/")
    assert switched.status_code == 200, switched.text
    assert switched.json()["variants"]["chapters"] == "ajax_old"
    assert refused.status_code == 422
    assert 'aria-label="chapters on theme-madara"' in page.text
    alice = await users.alice()
    series = site.catalog.series[2]
    numbers, page_count = await read_first_chapter(client, alice, "theme-madara", series.slug)
    assert numbers == [c.number for c in series.chapters]
    assert page_count == series.chapters[0].pages


async def test_mangathemesia_with_script_pages(
    client: httpx.AsyncClient, users: UserFactory, hub: FakeSiteHub
) -> None:
    site = hub.sites["theme-ts"]
    assert isinstance(site, FakeMangaThemesiaSite)
    site.set_variant("pages", "script")
    site.set_variant("premium", "latest")
    series = next(s for s in site.catalog.series if not site.is_novel(s) and len(s.chapters) > 1)
    alice = await users.alice()
    numbers, page_count = await read_first_chapter(client, alice, "theme-ts", series.slug)
    assert numbers == [c.number for c in series.chapters[:-1]]  # the locked newest left out
    assert page_count == series.chapters[0].pages
    status = await client.post("/api/v1/providers/theme-ts/test", headers=alice.headers)
    assert status.status_code == 200, status.text
    assert status.json()["is_success"] is True, status.json()
