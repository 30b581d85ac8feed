"""The fake sites grow new chapters from their control panel, and every kind's provider sees
them on its next chapter list, as it would on the real site."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from kurobara.providers.base import Provider
from kurobara.providers.fakes.html import FakeHtmlSite
from kurobara.providers.fakes.hub import FakeSiteHub
from kurobara.providers.fakes.madara import FakeMadaraSite
from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from kurobara.providers.fakes.mangathemesia import FakeMangaThemesiaSite
from kurobara.providers.fakes.server import FakeSite
from kurobara.providers.html import HtmlProvider
from kurobara.providers.http import HttpClient
from kurobara.providers.madara import MadaraProvider
from kurobara.providers.mangadex import MangaDexProvider
from kurobara.providers.mangathemesia import MangaThemesiaProvider
from tests.conftest import TLS
from tests.providers.conftest import make_provider

KINDS: list[tuple[type[FakeSite], type[Provider]]] = [
    (FakeMangaDexSite, MangaDexProvider),
    (FakeMadaraSite, MadaraProvider),
    (FakeHtmlSite, HtmlProvider),
    (FakeMangaThemesiaSite, MangaThemesiaProvider),
]


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeSiteHub]:
    panel = FakeSiteHub([site() for site, _ in KINDS]).start()
    yield panel
    panel.stop()


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(user_agent="kurobara-tests", timeout=5.0)
    yield client
    await client.aclose()


def external_id(site: FakeSite, series_id: str) -> str:
    series = site.catalog.find(series_id)
    assert series is not None
    return series.id if site.kind == "mangadex" else series.slug


@pytest.mark.parametrize(("site_class", "kind"), KINDS, ids=[s.kind for s, _ in KINDS])
async def test_a_chapter_added_on_the_panel_appears_in_the_providers_list(
    hub: FakeSiteHub, http: HttpClient, site_class: type[FakeSite], kind: type[Provider]
) -> None:
    site = next(s for s in hub.sites.values() if isinstance(s, site_class))
    provider = make_provider(kind, site, http)
    series = site.catalog.series[1]
    before = await provider.get_chapters(external_id(site, series.id))

    async with httpx.AsyncClient(base_url=hub.url, verify=TLS) as panel:
        added = await panel.post(f"/sites/{site.name}/chapters", json={"series": series.slug})
        listed = (await panel.get(f"/sites/{site.name}/series")).json()

    assert added.status_code == 201, added.text
    after = await provider.get_chapters(external_id(site, series.id))
    assert len(after) > len(before)
    new = [c for c in after if c.external_id not in {b.external_id for b in before}]
    assert [c.number for c in new] == [added.json()["number"]] * len(new)
    assert next(s for s in listed if s["id"] == series.id)["chapters"] == added.json()["chapters"]


async def test_the_panel_form_adds_a_chapter_and_returns_to_the_panel(hub: FakeSiteHub) -> None:
    site = hub.sites["fake-html"]
    series = site.catalog.series[2]
    count = len(series.chapters)
    async with httpx.AsyncClient(base_url=hub.url, verify=TLS) as panel:
        page = await panel.get("/")
        response = await panel.post(
            "/sites/fake-html/chapters", data={"series": series.id}, headers={"Accept": "text/html"}
        )
    assert "Add chapter" in page.text
    assert response.status_code == 303
    grown = site.catalog.find(series.id)
    assert grown is not None
    assert len(grown.chapters) == count + 1


@pytest.mark.parametrize("body", [{}, {"series": "no-such-series"}, {"series": 7}])
async def test_an_unknown_series_is_refused(hub: FakeSiteHub, body: dict[str, object]) -> None:
    async with httpx.AsyncClient(base_url=hub.url, verify=TLS) as panel:
        response = await panel.post("/sites/fake-html/chapters", json=body)
        missing = await panel.post("/sites/nope/chapters", json={"series": "x"})
    assert response.status_code == 422
    assert missing.status_code == 404
