"""The reading pages in a real Chromium against the demo's fake sites (one per provider kind):
search, star, favorites, the manga page with its library form and chapters, the reader, and the
bulk actions, export and import of the collection pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.conftest import TLS
from tests.factories import PASSWORD
from tests.web.conftest import PHONE, FakeSites, Screenshots, Server
from tests.web.test_browser_account import log_in

pytestmark = pytest.mark.browser

KINDS = ("mangadex", "madara", "html")


@pytest.fixture
def server_env(fake_sites: FakeSites) -> dict[str, str]:
    return fake_sites.env()


def api_token(server: Server, username: str) -> dict[str, str]:
    with server.api() as client:
        response = client.post(
            "/api/v1/auth/login", data={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def favorite_results(server: Server, headers: dict[str, str], query: str, count: int) -> list[str]:
    """Import and favorite the first ``count`` results of a search, through the API."""
    titles = []
    with httpx.Client(base_url=server.url, headers=headers, timeout=30, verify=TLS) as client:
        results = client.get("/api/v1/search", params={"q": query}).json()["results"]
        for result in results[:count]:
            manga = client.post(
                "/api/v1/manga/import",
                json={"provider_id": result["provider_id"], "external_id": result["external_id"]},
            ).json()
            assert client.post(f"/api/v1/favorites/{manga['id']}").status_code == 200
            titles.append(manga["title"])
    return titles


async def search_for(page: Any, query: str) -> None:
    await page.get_by_label("Title").fill(query)
    await page.get_by_label("Title").press("Enter")
    await page.locator("[data-results] .cover-card").first.wait_for()
    # Results stream in as each provider answers (the grid is no longer busy at the first);
    # the search is over once the summary came.
    await page.wait_for_function(
        "() => document.querySelector('[data-search-status]').dataset.state === 'done'"
    )


async def test_search_star_favorites_manga_page_and_reader(
    page: Any, fake_sites: FakeSites, shots: Screenshots
) -> None:
    await page.goto("/register")
    await page.get_by_label("Username").fill("dana")
    await page.get_by_label("Email").fill("dana@example.org")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await page.wait_for_url("**/search")
    nav = page.get_by_role("navigation", name="Main")
    assert await nav.get_by_role("link", name="Search").get_attribute("aria-current") == "page"
    await shots("search-empty")

    await search_for(page, "e")
    strip = page.locator("[data-provider-strip]")
    for kind in KINDS:
        chip = strip.locator(f'[data-provider="{fake_sites.site(kind).name}"]')
        assert await chip.get_attribute("data-outcome") == "ok"
        assert "result" in await chip.locator("[data-outcome]").inner_text()
        cards = page.locator(
            f'[data-results] .cover-card[data-provider="{chip_id(fake_sites, kind)}"]'
        )
        assert await cards.count() > 0, f"no results from the {kind} site"
    assert "?q=e" in page.url
    await shots("search-results")

    first = page.locator("[data-results] .cover-card").first
    title = await first.locator(".cover-title").inner_text()
    star = first.get_by_role("button", name=f"Favorite {title}")
    await star.click()
    await page.wait_for_function(
        "(b) => b.getAttribute('aria-pressed') === 'true' && !b.hasAttribute('aria-busy')",
        arg=await star.element_handle(),
    )
    await shots("starred")

    await nav.get_by_role("link", name="Favorites").click()
    await page.wait_for_url("**/favorites")
    card = page.locator("[data-collection] .cover-card", has_text=title)
    await card.wait_for()
    assert (
        await card.get_by_role("button", name=f"Favorite {title}").get_attribute("aria-pressed")
        == "true"
    )
    await shots("favorites")

    await card.get_by_role("link", name=title).click()
    await page.wait_for_url("**/manga/*")
    await page.get_by_role("heading", name=title, level=1).wait_for()
    assert (
        await page.get_by_role("button", name=f"Favorite {title}").get_attribute("aria-pressed")
        == "true"
    )
    await page.get_by_label("Rating").select_option("4.5")
    await page.get_by_label("Notes").fill("Great art, slow start.")
    await page.get_by_role("button", name="Save").click()
    await page.get_by_text("Saved.").wait_for()
    chapters = page.locator("[data-chapter-list] li")
    await chapters.first.wait_for()
    await shots("manga")
    await page.reload()
    assert await page.get_by_label("Rating").input_value() == "4.5"
    assert await page.get_by_label("Notes").input_value() == "Great art, slow start."

    newest = chapters.first.get_by_role("link")
    chapter_name = await newest.inner_text()
    await newest.click()
    await page.wait_for_url("**/read/**")
    await page.get_by_role("heading", name=chapter_name, level=1).wait_for()
    first_page = page.get_by_role("img", name="Page 1", exact=True)
    await page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=await first_page.element_handle()
    )
    await shots("reader")
    reader_url = page.url
    # [ and ] change chapters (the arrows turn pages; tests/web/test_browser_reader.py).
    await page.keyboard.press("[")
    await page.wait_for_url(lambda url: url != reader_url and "/read/" in url)
    await page.keyboard.press("]")
    await page.wait_for_url(reader_url)

    # The same pages on a phone in the dark theme.
    await page.set_viewport_size(PHONE)
    await page.emulate_media(color_scheme="dark")
    await page.get_by_role("link", name=title).click()
    await chapters.first.wait_for()
    await shots("manga-phone-dark")
    await page.goto("/search?q=e")
    await page.locator("[data-results] .cover-card").first.wait_for()
    await shots("search-phone-dark")


def chip_id(fake_sites: FakeSites, kind: str) -> str:
    name: str = fake_sites.site(kind).name
    return name


@pytest.mark.parametrize("color_scheme", ["dark"])
async def test_bulk_actions_export_and_import_on_the_collection_pages(
    page: Any, server: Server, shots: Screenshots, tmp_path: Path
) -> None:
    server.register("bob", PASSWORD)
    titles = favorite_results(server, api_token(server, "bob"), "e", 4)
    await page.goto("/favorites")
    await log_in(page, "bob")
    await page.wait_for_url("**/favorites")
    cards = page.locator("[data-collection] .cover-card")
    await expect(cards).to_have_count(4)
    assert "1\u20134 of 4" in await page.locator(".pager").inner_text()

    boxes = page.locator("[data-select]")
    await boxes.nth(0).check()
    await boxes.nth(2).click(modifiers=["Shift"])  # a range: the first three
    assert await page.locator("[data-selected-count]").inner_text() == "3 selected"
    await boxes.nth(2).uncheck()
    assert await page.locator("[data-selected-count]").inner_text() == "2 selected"
    await shots("favorites-selected")
    await page.get_by_role("button", name="Unfavorite").click()
    await page.get_by_text("Unfavorited 2.").wait_for()
    await expect(cards).to_have_count(2)
    await shots("favorites-after-bulk")

    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export JSON").click()
    export = tmp_path / "favorites.json"
    await (await download_info.value).save_as(export)
    exported = json.loads(export.read_text())
    assert len(exported["items"]) == 2
    exported["items"].append(
        {"title": "Nowhere", "sources": [{"provider_id": "gone", "external_id": "1"}]}
    )
    export.write_text(json.dumps(exported))
    await page.locator("[data-import-file]:not([data-import-csv])").set_input_files(str(export))
    summary = page.locator("[data-import-summary]")
    await summary.get_by_text("Import finished").wait_for()
    assert "0 imported, 2 already there, 1 failed" in await summary.inner_text()
    await expect(page.locator("[data-import-rows] tr")).to_have_count(3)
    await shots("favorites-import-report")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    await page.wait_for_url("**/library")
    await expect(cards).to_have_count(4)
    await page.get_by_label("Show").select_option("false")
    await page.wait_for_url("**is_favorite=false**")
    await expect(cards).to_have_count(2)
    await page.get_by_label("Select all on this page").check()
    assert await page.locator("[data-selected-count]").inner_text() == "2 selected"
    await shots("library-not-favorites")
    await page.get_by_role("button", name="Remove", exact=True).click()
    await page.locator("dialog [data-confirm]").click()
    await page.get_by_text("Removed 2 from your library.").wait_for()
    await page.locator(".empty").wait_for()
    await page.get_by_label("Show").select_option("")
    await page.wait_for_url(lambda url: "is_favorite=false" not in url)
    await expect(cards).to_have_count(2)
    assert {await c.locator(".cover-title").inner_text() for c in await cards.all()} <= set(titles)
    await page.get_by_label("Search titles").fill("zzzz-nothing")
    await page.get_by_label("Search titles").press("Enter")
    await page.get_by_text("Nothing matches").wait_for()
    await shots("library-no-match")
