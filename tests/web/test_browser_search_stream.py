"""The search page in a real Chromium, streaming: results of the answering providers appear
while a hanging one is still being asked (with a live "still asking" counter), the summary says
which provider failed and why, "Nothing found" never stands for a failure, and stars show the
favorites the user already has."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.conftest import TLS
from tests.factories import PASSWORD
from tests.web.conftest import FakeSites, Screenshots, Server
from tests.web.test_browser_account import log_in
from tests.web.test_browser_browse import api_token

pytestmark = pytest.mark.browser

SEARCH_TIMEOUT = "4"


@pytest.fixture
def server_env(fake_sites: FakeSites) -> dict[str, str]:
    return fake_sites.env(KUROBARA_SEARCH_TIMEOUT=SEARCH_TIMEOUT)


async def open_search(page: Any, server: Server, query: str) -> None:
    server.register("erin", PASSWORD)
    await page.goto(f"/search?q={query}")
    await log_in(page, "erin")
    await page.wait_for_url(f"**/search?q={query}")


async def wait_done(page: Any) -> str:
    status = page.locator("[data-search-status]")
    await page.wait_for_function(
        "() => document.querySelector('[data-search-status]').dataset.state === 'done'"
    )
    text: str = await status.inner_text()
    return text


async def test_results_arrive_while_a_hanging_provider_is_still_asked(
    page: Any, server: Server, fake_sites: FakeSites, shots: Screenshots
) -> None:
    hanging = fake_sites.site("html")
    hanging.set_fault("slow")
    await open_search(page, server, "e")
    status = page.locator("[data-search-status]")
    await page.get_by_text("still asking 1").wait_for()
    # Shown before the hanging provider has an outcome: the page did not wait for it.
    chip = page.locator(f'[data-provider="{hanging.name}"]')
    assert await chip.get_attribute("data-outcome") == "pending"
    assert await page.locator("[data-results] .cover-card").count() > 0
    assert "results so far" in await status.inner_text()
    await shots("search-still-asking")

    message = await wait_done(page)
    assert message.startswith(f"1 of 4 providers failed: {hanging.title} timed out.")
    assert "Nothing found" not in message
    assert await chip.get_attribute("data-outcome") == "error"
    assert "has-failures" in (await status.get_attribute("class") or "")
    await shots("search-one-failed")


async def test_when_every_provider_fails_the_page_says_so(
    page: Any, server: Server, fake_sites: FakeSites, shots: Screenshots
) -> None:
    for kind in ("mangadex", "madara", "html", "mangathemesia"):
        fake_sites.site(kind).set_fault("down")
    await open_search(page, server, "e")
    message = await wait_done(page)
    assert message.startswith("4 of 4 providers failed:")
    assert "refused the connection" in message
    assert "Nothing found" not in message
    await expect(page.locator("[data-results] .cover-card")).to_have_count(0)
    await shots("search-all-failed")


async def test_stars_show_existing_favorites(
    page: Any, server: Server, fake_sites: FakeSites, shots: Screenshots
) -> None:
    server.register("erin", PASSWORD)
    headers = api_token(server, "erin")
    provider = fake_sites.site("mangadex").name
    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, timeout=30, verify=TLS
    ) as client:
        found = await client.get("/api/v1/search", params={"q": "e", "providers": provider})
        result = found.json()["results"][0]
        imported = await client.post(
            "/api/v1/manga/import",
            json={"provider_id": provider, "external_id": result["external_id"]},
        )
        manga_id = imported.json()["id"]
        assert (await client.post(f"/api/v1/favorites/{manga_id}")).status_code == 200
    await page.goto("/search?q=e")
    await log_in(page, "erin")
    await page.wait_for_url("**/search?q=e")
    await wait_done(page)
    pressed = page.locator("[data-results] [data-star][aria-pressed='true']")
    await expect(pressed).to_have_count(1)
    assert await pressed.get_attribute("aria-label") == f"Favorite {result['title']}"
    await shots("search-favorite-starred")
    # Unstarring it goes straight to the favorite: the card already knows its manga.
    # The star turns at once; the favorite is gone once the DELETE it sent has been answered.
    async with page.expect_response(
        lambda r: r.request.method == "DELETE" and f"/favorites/{manga_id}" in r.url
    ) as unstarred:
        await pressed.click()
    assert (await unstarred.value).ok
    await page.wait_for_function(
        "() => !document.querySelector(\"[data-results] [data-star][aria-pressed='true']\")"
    )
    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, timeout=30, verify=TLS
    ) as client:
        entry = (await client.get(f"/api/v1/library/{manga_id}")).json()
    assert entry["is_favorite"] is False
