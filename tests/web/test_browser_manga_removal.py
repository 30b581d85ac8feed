"""The manga page's "Remove from library" in a real Chromium: it asks first, and its Undo
puts the entry back with its rating and notes (against the demo's fake sites)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import TLS
from tests.factories import PASSWORD
from tests.web.conftest import FakeSites, Screenshots, Server
from tests.web.test_browser_account import log_in
from tests.web.test_browser_browse import api_token, favorite_results

pytestmark = pytest.mark.browser


@pytest.fixture
def server_env(fake_sites: FakeSites) -> dict[str, str]:
    return fake_sites.env()


async def test_remove_asks_first_and_undo_puts_the_entry_back(
    page: Any, server: Server, shots: Screenshots
) -> None:
    server.register("bob", PASSWORD)
    headers = api_token(server, "bob")
    [title] = favorite_results(server, headers, "e", 1)
    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, timeout=10, verify=TLS
    ) as api:
        [entry] = (await api.get("/api/v1/library/")).json()
        body = {"rating": 3, "notes": "keep"}
        assert (await api.patch(f"/api/v1/library/{entry['manga_id']}", json=body)).is_success

    await page.goto(f"/manga/{entry['manga_id']}")
    await log_in(page, "bob")
    await page.get_by_role("button", name="Remove from library").click()
    dialog = page.locator("dialog.confirm-dialog")
    await dialog.get_by_role("button", name="Cancel").click()
    await page.get_by_role("button", name="Remove from library").click()
    await dialog.locator("[data-confirm]").click()
    await page.get_by_text("Removed from your library.").wait_for()
    await shots("manga-removed")
    await page.get_by_role("button", name="Undo").click()
    await page.get_by_text("Put back the title.").wait_for()
    assert await page.get_by_role("button", name="Remove from library").is_visible()

    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, timeout=10, verify=TLS
    ) as api:
        back = (await api.get(f"/api/v1/library/{entry['manga_id']}")).json()
    assert (back["rating"], back["notes"], back["is_favorite"]) == (3, "keep", True)
    assert back["manga"]["title"] == title
