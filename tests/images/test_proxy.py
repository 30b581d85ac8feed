"""The image proxy through the HTTP stack, against fake sites on loopback that refuse hotlinks:
pages and covers load only through the proxy, a token we did not sign fetches nothing, one
upstream fetch serves 50 readers, and a library manga's cover outlives its site going down."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kurobara.images.tokens import ImageRef, ImageSigner
from kurobara.providers.fakes.madara import FakeMadaraSite
from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from tests.conftest import TLS
from tests.factories import Persona, UserFactory, write_providers_file


@pytest.fixture(scope="module")
def madara() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite(name="mad") as running:
        yield running


@pytest.fixture(scope="module")
def mangadex() -> Iterator[FakeMangaDexSite]:
    with FakeMangaDexSite(name="md") as running:
        yield running


@pytest.fixture(autouse=True)
def sites_up(madara: FakeMadaraSite, mangadex: FakeMangaDexSite) -> Iterator[None]:
    yield
    madara.set_fault("ok")
    mangadex.set_fault("ok")


@pytest.fixture
def settings_overrides(
    madara: FakeMadaraSite, mangadex: FakeMangaDexSite, tmp_path: Path
) -> dict[str, object]:
    definitions = [madara.definition(), mangadex.definition()]
    return {
        "providers_file": write_providers_file(tmp_path / "providers.yaml", definitions),
        "check_timeout": 15.0,  # generous: no test here waits one out (a loaded CI is slow)
    }


@pytest.fixture
async def alice(users: UserFactory) -> Persona:
    return await users.alice()


async def import_manga(
    client: httpx.AsyncClient, who: Persona, provider_id: str, external_id: str
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/manga/import",
        json={"provider_id": provider_id, "external_id": external_id},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def first_chapter_pages(
    client: httpx.AsyncClient, who: Persona, manga_id: str
) -> list[dict[str, Any]]:
    chapters = await client.get(f"/api/v1/manga/{manga_id}/chapters", headers=who.headers)
    chapter_id = chapters.json()["chapters"][0]["id"]
    response = await client.get(
        f"/api/v1/manga/{manga_id}/chapters/{chapter_id}/pages", headers=who.headers
    )
    assert response.status_code == 200, response.text
    pages: list[dict[str, Any]] = response.json()["pages"]
    return pages


async def test_a_page_loads_through_the_proxy_with_the_chapters_referer(
    client: httpx.AsyncClient, alice: Persona, madara: FakeMadaraSite
) -> None:
    manga = await import_manga(client, alice, "mad", madara.catalog.series[0].slug)
    pages = await first_chapter_pages(client, alice, manga["id"])
    assert all(page["url"].startswith("/api/v1/images/") for page in pages)
    first = await client.get(pages[0]["url"])
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("image/svg+xml")
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "sandbox" in first.headers["content-security-policy"]
    assert first.headers["x-cache"] == "MISS"
    again = await client.get(pages[0]["url"])
    assert (again.headers["x-cache"], again.content) == ("HIT", first.content)


async def test_the_fake_site_refuses_a_browser_hotlinking_its_images(
    madara: FakeMadaraSite,
) -> None:
    series = madara.catalog.series[0]
    cover = madara.absolute(f"/wp-content/uploads/covers/{series.slug}.svg")
    async with httpx.AsyncClient(verify=TLS) as browser:
        foreign = await browser.get(cover, headers={"Referer": "http://kurobara.test/manga/1"})
        cross_site = await browser.get(cover, headers={"Sec-Fetch-Site": "cross-site"})
        own = await browser.get(cover, headers={"Referer": f"{madara.url}/manga/{series.slug}/"})
    assert (foreign.status_code, cross_site.status_code, own.status_code) == (403, 403, 200)


async def test_cover_url_points_at_the_proxy_and_cover_image_keeps_the_source(
    client: httpx.AsyncClient, alice: Persona, madara: FakeMadaraSite
) -> None:
    series = madara.catalog.series[1]
    manga = await import_manga(client, alice, "mad", series.slug)
    assert manga["cover_image"].startswith(madara.url)
    assert manga["cover_url"].startswith("/api/v1/images/")
    await client.post(f"/api/v1/library/{manga['id']}", headers=alice.headers)
    entries = (await client.get("/api/v1/library/", headers=alice.headers)).json()
    listed = entries[0]["manga"]["cover_url"]
    assert listed.startswith("/api/v1/images/")
    cover = await client.get(manga["cover_url"])
    assert cover.status_code == 200
    assert cover.headers["content-type"].startswith("image/svg+xml")
    # The library's list (no sources loaded) names the same image: the cache already has it.
    again = await client.get(listed)
    assert (again.headers["x-cache"], again.content) == ("HIT", cover.content)


async def test_search_results_carry_proxied_covers(
    client: httpx.AsyncClient, alice: Persona, madara: FakeMadaraSite
) -> None:
    title = madara.catalog.series[2].title
    response = await client.get(
        "/api/v1/search", params={"q": title, "providers": "mad"}, headers=alice.headers
    )
    results = response.json()["results"]
    assert results
    assert all(r["cover_url"].startswith("/api/v1/images/") for r in results)
    assert (await client.get(results[0]["cover_url"])).status_code == 200


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "W1sw" + token[4:],
        lambda token: token.replace(".", ""),
        lambda token: "not-a-token",
    ],
    ids=["signature", "payload", "no-dot", "garbage"],
)
async def test_a_tampered_token_is_404_and_fetches_nothing(
    client: httpx.AsyncClient, alice: Persona, madara: FakeMadaraSite, mangle: Any
) -> None:
    manga = await import_manga(client, alice, "mad", madara.catalog.series[3].slug)
    token = manga["cover_url"].removeprefix("/api/v1/images/")
    before = madara.requests
    response = await client.get(f"/api/v1/images/{mangle(token)}")
    assert response.status_code == 404
    assert madara.requests == before


async def test_a_token_signed_with_another_key_fetches_nothing(
    client: httpx.AsyncClient, madara: FakeMadaraSite
) -> None:
    foreign = ImageSigner("someone else's key").sign(
        ImageRef("mad", "cover", "http://169.254.169.254/latest/meta-data/")
    )
    before = madara.requests
    response = await client.get(f"/api/v1/images/{foreign}")
    assert response.status_code == 404
    assert madara.requests == before


async def test_an_overlong_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/images/" + "A" * 7000)
    assert response.status_code == 422


async def test_fifty_readers_of_one_page_cause_one_upstream_fetch(
    client: httpx.AsyncClient, alice: Persona, madara: FakeMadaraSite
) -> None:
    manga = await import_manga(client, alice, "mad", madara.catalog.series[4].slug)
    pages = await first_chapter_pages(client, alice, manga["id"])
    before = madara.requests
    answers = await asyncio.gather(*(client.get(pages[1]["url"]) for _ in range(50)))
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1
    assert madara.requests - before == 1


async def test_a_site_failure_is_a_502_with_its_kind(
    client: httpx.AsyncClient, alice: Persona, madara: FakeMadaraSite
) -> None:
    manga = await import_manga(client, alice, "mad", madara.catalog.series[5].slug)
    pages = await first_chapter_pages(client, alice, manga["id"])
    madara.set_fault("error")
    response = await client.get(pages[0]["url"])
    assert response.status_code == 502
    assert response.json()["kind"] == "http_status"
    assert response.headers["cache-control"] == "no-store"


async def test_a_cache_that_cannot_be_written_still_serves_the_image(
    client: httpx.AsyncClient, alice: Persona, madara: FakeMadaraSite, tmp_path: Path
) -> None:
    """A full or broken disk costs the cache, never the reader: the fetched bytes are served."""
    manga = await import_manga(client, alice, "mad", madara.catalog.series[6].slug)
    pages = await first_chapter_pages(client, alice, manga["id"])
    lru = tmp_path / "images" / "lru"
    shutil.rmtree(lru, ignore_errors=True)
    lru.write_bytes(b"")  # a file where the cache's folder should be: every write fails
    response = await client.get(pages[0]["url"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/")
    assert response.headers["x-cache"] == "MISS"


async def test_library_covers_still_show_with_their_site_down(
    client: httpx.AsyncClient, alice: Persona, madara: FakeMadaraSite, app: Any
) -> None:
    kept = await import_manga(client, alice, "mad", madara.catalog.series[6].slug)
    other = await import_manga(client, alice, "mad", madara.catalog.series[7].slug)
    await client.get(kept["cover_url"])  # seen before it joined the library
    await client.post(f"/api/v1/library/{kept['id']}", headers=alice.headers)
    assert (await client.get(kept["cover_url"])).status_code == 200  # now pinned
    await client.get(other["cover_url"])
    app.state.images.cache.max_bytes = 1  # any pressure now evicts all it may
    await client.get(other["cover_url"])  # a hit: nothing stored, nothing evicted yet
    app.state.images.cache.put("filler", b"x" * 10, "image/png")
    madara.set_fault("down")
    assert (await client.get(kept["cover_url"])).status_code == 200
    assert (await client.get(other["cover_url"])).status_code == 502


# -- MangaDex@Home -------------------------------------------------------------------------


async def test_mangadex_pages_come_from_a_fresh_node_and_are_reported(
    client: httpx.AsyncClient, alice: Persona, mangadex: FakeMangaDexSite
) -> None:
    series = mangadex.catalog.series[0]
    manga = await import_manga(client, alice, "md", series.id)
    pages = await first_chapter_pages(client, alice, manga["id"])
    mangadex.expire_nodes()  # the base URL the page list was made with no longer works
    reports = len(mangadex.reports)
    response = await client.get(pages[0]["url"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    report = mangadex.reports[-1]
    assert len(mangadex.reports) == reports + 1
    assert report["success"] is True
    assert report["bytes"] == len(response.content)
    assert report["url"].startswith(f"{mangadex.url}/node/")
    assert set(report) == {"url", "success", "bytes", "duration", "cached"}


async def test_a_node_that_refuses_is_replaced_and_the_failure_reported(
    client: httpx.AsyncClient, alice: Persona, mangadex: FakeMangaDexSite
) -> None:
    series = mangadex.catalog.series[1]
    manga = await import_manga(client, alice, "md", series.id)
    pages = await first_chapter_pages(client, alice, manga["id"])
    assert (await client.get(pages[0]["url"])).status_code == 200  # the proxy knows a node
    mangadex.expire_nodes()
    asked = mangadex.at_home_requests
    reports = len(mangadex.reports)
    assert (await client.get(pages[1]["url"])).status_code == 200
    assert mangadex.at_home_requests == asked + 1
    outcomes = [report["success"] for report in mangadex.reports[reports:]]
    assert outcomes == [False, True]


async def test_mangadex_nodes_refuse_hotlinked_requests(mangadex: FakeMangaDexSite) -> None:
    chapter = mangadex.feeds[mangadex.catalog.series[0].id][0]
    async with httpx.AsyncClient(verify=TLS) as browser:
        server = (await browser.get(f"{mangadex.url}/at-home/server/{chapter.id}")).json()
        url = f"{server['baseUrl']}/data/{chapter.hash}/{chapter.files()[0]}"
        hotlinked = await browser.get(url, headers={"Referer": "http://kurobara.test/read"})
        direct = await browser.get(url)
        mangadex.expire_nodes()
        expired = await browser.get(url)
    assert (hotlinked.status_code, direct.status_code, expired.status_code) == (403, 200, 403)


async def test_data_saver_is_a_user_preference_for_mangadex_pages(
    client: httpx.AsyncClient, users: UserFactory, alice: Persona, mangadex: FakeMangaDexSite
) -> None:
    bob = await users.bob()
    manga = await import_manga(client, alice, "md", mangadex.catalog.series[2].id)
    assert (await client.get("/api/v1/images/preferences", headers=alice.headers)).json() == {
        "data_saver": False
    }
    saved = await client.put(
        "/api/v1/images/preferences", json={"data_saver": True}, headers=alice.headers
    )
    assert saved.json() == {"data_saver": True}
    mine = await first_chapter_pages(client, alice, manga["id"])
    theirs = await first_chapter_pages(client, bob, manga["id"])
    tokens = [page["url"].removeprefix("/api/v1/images/") for page in (mine[0], theirs[0])]
    signer_of = client._transport.app.state.images  # type: ignore[attr-defined]
    urls = [signer_of.resolve(token).url for token in tokens]
    assert "/data-saver/" in urls[0]
    assert "/data/" in urls[1]
    assert (await client.get(mine[0]["url"])).status_code == 200


async def test_a_bad_preference_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, alice: Persona
) -> None:
    for body in ({"data_saver": "yes"}, {"data_saver": True, "extra": 1}, {}):
        response = await client.put("/api/v1/images/preferences", json=body, headers=alice.headers)
        assert response.status_code == 422
    assert (await client.get("/api/v1/images/preferences", headers=alice.headers)).json() == {
        "data_saver": False
    }
    assert (await client.get("/api/v1/images/preferences")).status_code == 401
