"""Uploading a CBZ from the UI in a real Chromium: Library → Upload → the new manga's page →
its chapter in the reader, page images served by this server; a refused archive says why."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.images.archives import make_zip, pages
from tests.web.conftest import Screenshots, Server
from tests.web.test_browser_account import log_in

pytestmark = pytest.mark.browser

CBZ = {"name": "Rose Garden.cbz", "mimeType": "application/zip", "buffer": make_zip(pages(3))}


async def test_upload_a_cbz_and_read_it(page: Any, server: Server, shots: Screenshots) -> None:
    server.register("uma", PASSWORD)
    await page.goto("/library")
    await log_in(page, "uma")
    await page.wait_for_url("**/library")
    await page.get_by_role("link", name="Upload CBZ/ZIP").click()
    await page.wait_for_url("**/upload")
    await page.get_by_label("Archive").set_input_files(CBZ)
    await shots("upload-form")
    await page.get_by_role("button", name="Upload").click()
    await page.wait_for_url("**/manga/*")
    await page.get_by_role("heading", name="Rose Garden").wait_for()
    await page.get_by_role("link", name="Add chapters").wait_for()
    await page.locator("a[href*='/read/']").first.click()
    await page.wait_for_url("**/read/**")
    img = page.get_by_role("img", name="Page 1", exact=True)
    await page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=await img.element_handle()
    )
    src: str = await img.get_attribute("src")
    assert src.startswith("/api/v1/local/")
    await shots("local-reader")


async def test_a_refused_archive_says_why(page: Any, server: Server) -> None:
    server.register("vic", PASSWORD)
    await page.goto("/upload")
    await log_in(page, "vic")
    await page.wait_for_url("**/upload")
    bad = {"name": "notes.zip", "mimeType": "application/zip", "buffer": b"not a zip at all"}
    await page.get_by_label("Archive").set_input_files(bad)
    await page.get_by_role("button", name="Upload").click()
    message = page.locator("[data-upload-message]")
    await message.get_by_text("Not uploaded: the file is not a ZIP/CBZ archive").wait_for()
    assert page.url.endswith("/upload")
