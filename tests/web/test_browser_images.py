"""Images in a real Chromium as the issue's "done when" tries them: every ``<img>`` on the
main pages (library, favorites, search results, a manga, the reader, updates, history) is
same-origin and loads (the fake sites refuse a browser's cross-site image requests, so an image
that loads came through the proxy); the disk cache, bounded far below what was shown, stays
under its bound; and with every fake site down a browser with nothing in its own cache still
sees every library cover, pinned in the server's cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.web.conftest import DESKTOP, FakeSites, Screenshots, Server
from tests.web.test_browser_account import log_in
from tests.web.test_browser_browse import api_token, favorite_results, search_for
from tests.web.test_browser_reader import mangadex, two_manga, wait_counter

pytestmark = pytest.mark.browser

CACHE_MB = 0.008  # room for about ten of the fake sites' images
CACHE_BYTES = int(CACHE_MB * 1024 * 1024)

ALL_LOADED_SCROLLING = """() => {
  const images = [...document.images];
  const pending = images.filter((img) => !(img.complete && img.naturalWidth > 0));
  if (pending.length) pending[0].scrollIntoView({ block: "center" });
  return images.length > 0 && pending.length === 0;
}"""


@pytest.fixture
def server_env(fake_sites: FakeSites) -> dict[str, str]:
    # The library updater (beside the monitor) finds the chapter the Updates page shows.
    return fake_sites.env(KUROBARA_MONITOR_ENABLED="true", KUROBARA_IMAGE_CACHE_MB=str(CACHE_MB))


async def image_sources(page: Any) -> list[str]:
    sources: list[str] = await page.evaluate("() => [...document.images].map((img) => img.src)")
    return sources


async def assert_same_origin_and_loaded(page: Any, server: Server, seen: set[str]) -> None:
    # Each poll brings the first image still loading into view (lazy images load only there),
    # so a list that re-renders meanwhile (streamed search results) is walked as it now is.
    await page.wait_for_function(ALL_LOADED_SCROLLING)
    sources = await image_sources(page)
    assert sources
    assert all(src.startswith(server.url + "/") for src in sources), sources
    seen.update(src for src in sources if "/api/v1/images/" in src)


def cached_files(server: Server) -> list[Path]:
    """The images in the served instance's disk cache (its data directory holds the log)."""
    root = server.log.parent / "images"
    return [path for folder in ("lru", "pinned") for path in (root / folder).iterdir()]


async def test_every_image_is_same_origin_and_covers_outlive_their_sites(
    page: Any, server: Server, shots: Screenshots, fake_sites: FakeSites, browser: Any
) -> None:
    server.register("iris", PASSWORD)
    headers = api_token(server, "iris")
    favorite_results(server, headers, "e", 4)
    manga, _ = two_manga(server, headers, mangadex(fake_sites))
    with server.api() as api:
        added = api.post(f"/api/v1/library/{manga['id']}", headers=headers)
        assert added.status_code in (200, 201), added.text
    seen: set[str] = set()
    nav = page.get_by_role("navigation", name="Main")

    await page.goto("/library")
    await log_in(page, "iris")
    await page.wait_for_url("**/library")
    await page.locator("[data-collection] .cover-card").first.wait_for()
    await assert_same_origin_and_loaded(page, server, seen)
    library_covers = set(await image_sources(page)) & seen
    assert len(library_covers) == await page.locator("[data-collection] .cover-card").count()
    await shots("library")

    await nav.get_by_role("link", name="Favorites").click()
    await page.wait_for_url("**/favorites")
    await page.locator("[data-collection] .cover-card").first.wait_for()
    await assert_same_origin_and_loaded(page, server, seen)

    await page.goto("/search")
    await search_for(page, "e")
    await assert_same_origin_and_loaded(page, server, seen)

    await page.locator("[data-results] .cover-card a").first.click()
    await page.wait_for_url("**/manga/*")
    await assert_same_origin_and_loaded(page, server, seen)

    # The reader: every page's image, read to the end (which also makes the history).
    await page.goto(f"/manga/{manga['id']}/read/{manga['chapters'][0]['id']}")
    total = await page.locator("[data-page]").count()
    await wait_counter(page, f"1 / {total}")
    for number in range(2, total + 1):
        await page.keyboard.press("ArrowRight")
        await wait_counter(page, f"{number} / {total}")
        image = page.locator(f'[data-page="{number}"] img')
        await page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=await image.element_handle()
        )
    sources = await image_sources(page)
    assert all(src.startswith(server.url + "/") for src in sources), sources
    seen.update(src for src in sources if "/api/v1/images/" in src)
    await shots("reader")

    # A new chapter on the site, found by Update now: the Updates page shows it with its cover.
    fake_sites.site("mangadex").add_chapter(manga["sources"][0]["external_id"])
    await nav.get_by_role("link", name="Updates").click()
    await page.wait_for_url("**/updates")
    await page.get_by_role("button", name="Update now").click()
    await page.locator("[data-run-summary]").get_by_text("1 new chapter").wait_for(timeout=30_000)
    await page.reload()
    await page.locator("[data-update]").first.wait_for()
    await assert_same_origin_and_loaded(page, server, seen)

    await nav.get_by_role("link", name="History").click()
    await page.wait_for_url("**/history")
    await page.locator("[data-history-item]").first.wait_for()
    await assert_same_origin_and_loaded(page, server, seen)

    await page.goto("/settings")
    saver = page.get_by_label("Data saver (compressed MangaDex pages)")
    await page.wait_for_function("() => !document.querySelector('[data-data-saver]').disabled")
    await saver.check()
    await page.get_by_text("Data saver on.").wait_for()
    with server.api() as api:
        prefs = api.get("/api/v1/images/preferences", headers=headers).json()
    assert prefs == {"data_saver": True}
    await shots("settings-images")

    # Far more was shown than the cache holds; it kept to its bound.
    files = cached_files(server)
    assert sum(path.stat().st_size for path in files) <= CACHE_BYTES
    assert len(seen) > 2 * len(files), (len(seen), len(files))

    # Every site down, and a browser with an empty cache of its own: the library still whole.
    for site in fake_sites.hub.sites.values():
        site.set_fault("down")
    fresh = await browser.new_context(base_url=server.url, viewport=DESKTOP)
    try:
        other = await fresh.new_page()
        await other.goto("/library")
        await log_in(other, "iris")
        await other.wait_for_url("**/library")
        await other.locator("[data-collection] .cover-card").first.wait_for()
        await assert_same_origin_and_loaded(other, server, seen)
        assert set(await image_sources(other)) >= library_covers
        await Screenshots(other, shots.directory)("library-sites-down")
    finally:
        await fresh.close()
