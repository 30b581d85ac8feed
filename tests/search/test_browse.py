"""Browse (issue 13, item 5): each kind's ``popular`` and ``latest`` lists from its fake site,
served the way the real theme or API does, through ``GET /api/v1/providers/{id}/browse``; a
kind without lists is a 404, a disabled provider says so, a failing one says what happened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kurobara.providers.fakes.html import FakeHtmlSite
from kurobara.providers.fakes.madara import PAGE_SIZE as MADARA_PAGE
from kurobara.providers.fakes.madara import FakeMadaraSite
from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from kurobara.providers.fakes.mangathemesia import FakeMangaThemesiaSite
from kurobara.providers.fakes.server import FakeSite
from tests.factories import Persona, UserFactory, write_providers_file

KINDS = ("mangadex", "madara", "mangathemesia")


@pytest.fixture(scope="module")
def sites() -> Iterator[dict[str, FakeSite]]:
    running: dict[str, FakeSite] = {
        "mangadex": FakeMangaDexSite(name="browse-dex").start(),
        "madara": FakeMadaraSite(name="browse-madara").start(),
        "mangathemesia": FakeMangaThemesiaSite(name="browse-ts").start(),
        "html": FakeHtmlSite(name="browse-html").start(),
    }
    yield running
    for site in running.values():
        site.stop()


@pytest.fixture(autouse=True)
def healthy(sites: dict[str, FakeSite]) -> Iterator[None]:
    yield
    for site in sites.values():
        site.set_fault("ok")


@pytest.fixture
def settings_overrides(sites: dict[str, FakeSite], tmp_path: Path) -> dict[str, object]:
    definitions = [site.definition() for site in sites.values()]
    return {
        "providers_file": write_providers_file(tmp_path / "providers.yaml", definitions),
        "search_timeout": 10.0,  # the sites answer; a loaded machine is slow
    }


async def browse(
    client: httpx.AsyncClient, who: Persona, provider_id: str, expect: int = 200, **params: Any
) -> dict[str, Any]:
    response = await client.get(f"/api/v1/providers/{provider_id}/browse", params=params,
                                headers=who.headers)  # fmt: skip
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def titles(body: dict[str, Any]) -> list[str]:
    return [result["title"] for result in body["results"]]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("listing", "order"), [("popular", "popular"), ("latest", "latest")])
async def test_each_kind_lists_in_the_sites_order(
    client: httpx.AsyncClient, users: UserFactory, sites: dict[str, FakeSite], kind: str,
    listing: str, order: str,
) -> None:  # fmt: skip
    bob = await users.bob()
    site = sites[kind]
    body = await browse(client, bob, site.name, list=listing, limit=5)
    assert (body["status"], body["listing"], body["lists"]) == (
        "ok",
        listing,
        ["popular", "latest"],
    )
    # In the site's order from its top; what a kind leaves out (NSFW ratings on MangaDex,
    # light novels on MangaThemesia) is skipped over.
    expected = [s.title for s in site.catalog.listing(order)]
    shown = titles(body)
    assert len(shown) >= 3
    assert shown == [t for t in expected if t in shown]
    assert shown[0] in expected[:3]
    assert all(r["cover_url"] is None or r["cover_url"].startswith("/api/v1/images/")
               for r in body["results"])  # fmt: skip


async def test_popular_is_not_latest(
    client: httpx.AsyncClient, users: UserFactory, sites: dict[str, FakeSite]
) -> None:
    bob = await users.bob()
    popular = await browse(client, bob, sites["madara"].name, list="popular")
    latest = await browse(client, bob, sites["madara"].name, list="latest")
    assert titles(popular) != titles(latest)


@pytest.mark.parametrize("kind", ["madara", "mangathemesia"])
async def test_the_next_page_continues_the_list(
    client: httpx.AsyncClient, users: UserFactory, sites: dict[str, FakeSite], kind: str
) -> None:
    bob = await users.bob()
    site = sites[kind]
    first = await browse(client, bob, site.name, list="popular", page=1)
    second = await browse(client, bob, site.name, list="popular", page=2)
    # Two site pages in order (light novels left out on MangaThemesia).
    expected = [s.title for s in site.catalog.popular()[: 2 * MADARA_PAGE]]
    both = titles(first) + titles(second)
    assert both == [t for t in expected if t in both]
    assert len(both) >= MADARA_PAGE + 3
    past = await browse(client, bob, site.name, list="popular", page=50)
    assert (past["status"], past["results"]) == ("ok", [])


async def test_a_kind_without_lists_is_404(
    client: httpx.AsyncClient, users: UserFactory, sites: dict[str, FakeSite]
) -> None:
    bob = await users.bob()
    body = await browse(client, bob, sites["html"].name, expect=404, list="popular")
    assert "no 'popular' list" in body["detail"]
    await browse(client, bob, "nobody", expect=404)
    await browse(client, bob, sites["madara"].name, expect=422, list="random")


async def test_a_disabled_provider_says_so(
    client: httpx.AsyncClient, users: UserFactory, sites: dict[str, FakeSite]
) -> None:
    alice = await users.alice()
    name = sites["mangathemesia"].name
    response = await client.patch(f"/api/v1/providers/{name}/status", json={"is_enabled": False},
                                  headers=alice.headers)  # fmt: skip
    assert response.status_code == 200, response.text
    body = await browse(client, alice, name)
    assert (body["status"], body["reason"], body["results"]) == ("skipped", "disabled", [])
    assert "not asked" in body["message"]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_failing_site_says_what_happened(
    client: httpx.AsyncClient, users: UserFactory, sites: dict[str, FakeSite], kind: str
) -> None:
    bob = await users.bob()
    sites[kind].set_fault("down")
    body = await browse(client, bob, sites[kind].name, list="latest")
    assert (body["status"], body["kind"]) == ("error", "connect")
    assert body["message"].startswith(f"{sites[kind].title} refused the connection")


async def test_a_changed_layout_is_a_parse_error(
    client: httpx.AsyncClient, users: UserFactory, sites: dict[str, FakeSite]
) -> None:
    bob = await users.bob()
    sites["madara"].set_fault("layout")
    body = await browse(client, bob, sites["madara"].name)
    assert (body["status"], body["kind"]) == ("error", "parse")


async def test_favorites_are_starred_and_nsfw_follows_the_preference(
    client: httpx.AsyncClient, users: UserFactory, sites: dict[str, FakeSite]
) -> None:
    bob = await users.bob()
    dex = sites["mangadex"].name
    first = (await browse(client, bob, dex, limit=50))["results"]
    assert not any(r["nsfw"] for r in first)
    pick = {"provider_id": dex, "external_id": first[0]["external_id"]}
    imported = await client.post("/api/v1/manga/import", headers=bob.headers, json=pick)
    assert imported.status_code == 201, imported.text
    favorited = await client.post(f"/api/v1/favorites/{imported.json()['id']}", headers=bob.headers)
    assert favorited.status_code in (200, 201), favorited.text
    again = (await browse(client, bob, dex, limit=50))["results"]
    assert (again[0]["favorite"], again[0]["manga_id"]) == (True, imported.json()["id"])
    assert not any(r["favorite"] for r in again[1:])
    await client.patch("/api/v1/search/preferences", json={"show_nsfw": True}, headers=bob.headers)
    shown = (await browse(client, bob, dex, limit=50))["results"]
    assert any(r["nsfw"] for r in shown)
