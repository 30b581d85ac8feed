"""Downloads in a real Chromium: "Download" on a manga's chapter makes it "Offline" (the server's
own Downloader fetches it), the Downloads page lists it and saves a CBZ a comic reader opens,
the chapter reads with its site down, Settings shows the storage and the auto-download switch,
and deleting frees the space."""

from __future__ import annotations

import io
import zipfile
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from tests.conftest import TLS
from tests.factories import PASSWORD
from tests.web.conftest import FakeSites, Screenshots, Server
from tests.web.test_browser_account import log_in
from tests.web.test_browser_browse import api_token

pytestmark = pytest.mark.browser

FIRST_PAGE_LOADED = """() => {
  const img = document.querySelector('[data-page] img');
  return img !== null && img.complete && img.naturalWidth > 0;
}"""


@pytest.fixture
def server_env(fake_sites: FakeSites) -> dict[str, str]:
    return fake_sites.env()


def import_madara(server: Server, fake_sites: FakeSites, headers: dict[str, str]) -> dict[str, Any]:
    site = fake_sites.site("madara")
    with httpx.Client(base_url=server.url, headers=headers, timeout=30, verify=TLS) as client:
        response = client.post(
            "/api/v1/manga/import",
            json={"provider_id": site.name, "external_id": site.catalog.series[0].slug},
        )
        assert response.status_code in (200, 201), response.text
        manga: dict[str, Any] = response.json()
        chapters = client.get(f"/api/v1/manga/{manga['id']}/chapters").json()["chapters"]
    manga["chapters"] = chapters
    return manga


async def test_a_chapter_downloaded_from_the_ui_saves_as_a_cbz_and_reads_offline(
    page: Any, server: Server, shots: Screenshots, fake_sites: FakeSites
) -> None:
    server.register("dora", PASSWORD)
    headers = api_token(server, "dora")
    manga = import_madara(server, fake_sites, headers)
    chapter = manga["chapters"][0]

    await page.goto(f"/manga/{manga['id']}")
    await log_in(page, "dora")
    await page.wait_for_url(f"**/manga/{manga['id']}")
    row = page.locator(f'[data-chapter-list] li[data-chapter-id="{chapter["id"]}"]')
    await row.get_by_role("button", name="Download").click()
    await page.get_by_text("1 chapter queued for download.").wait_for()
    await row.locator('[data-download-state="done"]').wait_for(timeout=30_000)
    assert await row.locator("[data-download-state]").inner_text() == "OFFLINE"
    await shots("manga-offline-mark")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Downloads").click()
    await page.wait_for_url("**/downloads")
    item = page.locator("[data-download-list] li").first
    await item.get_by_text("Offline").wait_for()
    assert await item.locator("progress").evaluate("(bar) => bar.value") == 1
    async with page.expect_download() as waiting:
        await item.get_by_role("link", name="Save CBZ").click()
    saved = await (await waiting.value).path()
    with zipfile.ZipFile(saved) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        info = ElementTree.parse(io.BytesIO(archive.read("ComicInfo.xml"))).getroot()
    assert names[0] == "0001.svg"
    assert names == [*sorted(names[:-1]), "ComicInfo.xml"]
    assert info.findtext("Series") == manga["title"]
    await shots("downloads-page")

    fake_sites.site("madara").set_fault("down")
    await item.get_by_role("link", name="Read").click()
    await page.wait_for_url("**/read/**")
    await page.wait_for_function(FIRST_PAGE_LOADED)
    sources = await page.evaluate(
        "() => [...document.querySelectorAll('[data-page] img')].map((img) => img.src)"
    )
    assert sources
    assert all(src.startswith(f"{server.url}/api/v1/downloads/chapters/") for src in sources)
    await shots("reader-offline")

    await page.goto("/settings")
    await page.get_by_text("Storage: 1 chapter offline").wait_for()
    rule = page.get_by_label("Download new chapters of my favorites when they are found")
    await page.wait_for_function("() => !document.querySelector('[data-download-rule]').disabled")
    await rule.check()
    await page.get_by_text("New chapters of your favorites will be downloaded.").wait_for()
    with server.api() as api:
        assert api.get("/api/v1/downloads/rules", headers=headers).json() == {
            "favorites_new_chapters": True
        }
    await shots("settings-downloads")

    await page.goto("/downloads")
    await page.get_by_role("button", name=f"Delete {manga['title']}", exact=False).click()
    await page.get_by_text("Deleted; the space is free.").wait_for()
    await page.locator("[data-downloads-empty]").wait_for()
    with server.api() as api:
        usage = api.get("/api/v1/downloads/usage", headers=headers).json()
    assert usage == {"bytes": 0, "chapters": 0, "pending": 0}
