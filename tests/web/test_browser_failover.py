"""Issue 17 in a real Chromium: one series linked on the demo's fake Madara and MangaThemesia
sites (same series, different ids), chapters 1-3 read, the Madara site switched down -> the
manga page and the reader continue from MangaThemesia with the banner and chapter 4 next; a
series that lived on Madara alone is proposed on the Migrate page once the outage passes the
threshold, and one click keeps its favorite, category and read chapters."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from playwright.async_api import expect as expect_page

from kurobara.providers.fakes.catalog import SHARED_TITLES
from tests.conftest import TLS
from tests.factories import PASSWORD
from tests.web.conftest import FakeSites, Screenshots, Server
from tests.web.test_browser_account import log_in
from tests.web.test_browser_browse import api_token

pytestmark = pytest.mark.browser

LANTERNS, HERON = SHARED_TITLES
# A few seconds: a real instance waits 48 hours (the default) before proposing migrations.
THRESHOLD_HOURS = 0.0005


@pytest.fixture
def server_env(fake_sites: FakeSites) -> dict[str, str]:
    return fake_sites.env(
        KUROBARA_MIGRATION_AFTER_HOURS=str(THRESHOLD_HOURS), KUROBARA_CHECK_TIMEOUT="2"
    )


def slug(fake_sites: FakeSites, kind: str, title: str) -> tuple[str, str]:
    site = fake_sites.site(kind)
    return site.name, next(s.slug for s in site.catalog.series if s.title == title)


def expect(response: httpx.Response, *codes: int) -> Any:
    assert response.status_code in (codes or (200,)), response.text
    return response.json() if response.content else None


def take_down(server: Server, headers: dict[str, str], fake_sites: FakeSites) -> None:
    """The Madara site down, as the monitor sees it: three failed checks."""
    site = fake_sites.site("madara")
    site.set_fault("down")
    with httpx.Client(base_url=server.url, headers=headers, timeout=30, verify=TLS) as client:
        for _ in range(3):
            expect(client.post(f"/api/v1/providers/{site.name}/test"))


def prepare(server: Server, headers: dict[str, str], fake_sites: FakeSites) -> dict[str, Any]:
    """Through the API: Lanterns on both sites, 1-3 read; Heron on Madara alone, a favorite
    on the "Weekly" category, 1-3 read."""
    madara, lanterns_here = slug(fake_sites, "madara", LANTERNS)
    themesia, lanterns_there = slug(fake_sites, "mangathemesia", LANTERNS)
    _, heron_here = slug(fake_sites, "madara", HERON)
    with httpx.Client(base_url=server.url, headers=headers, timeout=30, verify=TLS) as client:

        def imported(external_id: str) -> dict[str, Any]:
            body = {"provider_id": madara, "external_id": external_id}
            return dict(expect(client.post("/api/v1/manga/import", json=body), 201))

        lanterns, heron = imported(lanterns_here), imported(heron_here)
        link = {"provider_id": themesia, "external_id": lanterns_there}
        expect(client.post(f"/api/v1/manga/{lanterns['id']}/sources", json=link), 201)
        expect(client.post(f"/api/v1/library/{lanterns['id']}"))
        expect(client.post(f"/api/v1/favorites/{heron['id']}"))
        weekly = expect(client.post("/api/v1/categories/", json={"name": "Weekly"}), 201)
        body = {"manga_ids": [heron["id"]], "category_ids": [weekly["id"]], "mode": "move"}
        expect(client.patch("/api/v1/library/bulk", json=body))
        listed = {}
        for manga in (lanterns, heron):
            chapters = expect(client.get(f"/api/v1/manga/{manga['id']}/chapters"))["chapters"]
            up_to = {"up_to": chapters[2]["id"]}
            expect(client.post(f"/api/v1/manga/{manga['id']}/chapters/read", json=up_to))
            listed[manga["id"]] = chapters
    return {"lanterns": lanterns, "heron": heron, "chapters": listed}


async def scan_until_proposed(server: Server, headers: dict[str, str]) -> None:
    """Run the scout (admin API) until the outage, on the real server's clock, is past the
    threshold and the Madara-only series is proposed."""
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, timeout=60, verify=TLS
    ) as client:
        while time.monotonic() < deadline:
            report = expect(await client.post("/api/v1/migrations/scan"))
            if report["new_needs"] or expect(await client.get("/api/v1/migrations")):
                return
            await asyncio.sleep(0.5)
    pytest.fail("no migration proposed within 30 s")


async def test_fallback_banner_reader_and_one_click_migration(
    page: Any, server: Server, shots: Screenshots, fake_sites: FakeSites
) -> None:
    server.register("hana", PASSWORD)
    headers = api_token(server, "hana")
    made = prepare(server, headers, fake_sites)
    lanterns, heron = made["lanterns"], made["heron"]
    fourth = made["chapters"][lanterns["id"]][3]

    # Seen once while the site is up: their covers are in the image cache when it goes down.
    await page.goto(f"/manga/{heron['id']}")
    await log_in(page, "hana")
    await page.wait_for_url(f"**/manga/{heron['id']}")
    await page.locator("[data-chapter-list] li").first.wait_for()
    await page.goto(f"/manga/{lanterns['id']}")
    await page.locator("[data-chapter-list] li").first.wait_for()
    assert await page.locator("[data-chapters-fallback]").is_hidden()
    take_down(server, headers, fake_sites)

    await page.reload()
    banner = page.locator("[data-chapters-fallback]")
    await banner.get_by_text(
        "Reading from Fake Mangathemesia: Fake Madara is down since"
    ).wait_for()
    await expect_page(page.locator("[data-chapter-list] li.is-read")).to_have_count(3)
    await shots("manga-fallback")

    third = made["chapters"][lanterns["id"]][2]
    await page.goto(f"/manga/{lanterns['id']}/read/{third['id']}")
    await page.locator("[data-reader-fallback]").wait_for()
    next_link = page.locator("a[data-next]")
    assert f"Chapter {fourth['number']}" in (await next_link.get_attribute("title") or "")
    await shots("reader-fallback")

    await scan_until_proposed(server, headers)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    await page.locator("[data-migrate-link]").get_by_text("1 need a new source").click()
    await page.wait_for_url("**/migrate")
    entry = page.locator(f"[data-migration='{heron['id']}']")
    best = entry.locator("[data-candidate]").first
    assert await best.get_attribute("data-candidate") == fake_sites.site("mangathemesia").name
    await best.get_by_text(HERON).wait_for()
    await expect_page(page.locator("[data-migration]")).to_have_count(1)  # Lanterns: a live source
    await shots("migrate")
    await best.get_by_role("button", name=f"Accept {HERON}").click()
    await page.get_by_text("Migrated: the new source is linked").wait_for()
    await page.locator("[data-migrate-empty]").wait_for()

    await page.goto(f"/manga/{heron['id']}")
    await page.wait_for_function(
        "() => document.querySelectorAll('[data-chapter-list] li.is-read').length === 3"
    )
    assert await page.locator("[data-chapters-fallback]").is_hidden()
    await shots("manga-migrated")
    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, timeout=30, verify=TLS
    ) as client:
        entry_after = expect(await client.get(f"/api/v1/library/{heron['id']}"))
    assert entry_after["is_favorite"] is True
    assert [c["name"] for c in entry_after["categories"]] == ["Weekly"]
