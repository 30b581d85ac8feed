"""Tried as a new admin would, in a real Chromium against ``kurobara serve``: open Sources,
find sites in the catalog, enable five, and see them on the Providers page, checked by the
monitor and down with ``dns`` (their addresses are under ``.invalid``, which never resolves:
the truth on every machine, and no test reaches the internet)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import expect

from kurobara.providers.fakes.catalog_index import FakeCatalogIndex, offline_entries
from tests.factories import PASSWORD
from tests.web.conftest import Screenshots, Server
from tests.web.test_browser_account import log_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def index() -> Iterator[FakeCatalogIndex]:
    server = FakeCatalogIndex(offline_entries(8)).start()
    yield server
    server.stop()


@pytest.fixture
def server_env(index: FakeCatalogIndex) -> dict[str, str]:
    return {
        "KUROBARA_CATALOG_URLS": index.url,
        "KUROBARA_CATALOG_BUNDLED": "false",
        "KUROBARA_MONITOR_ENABLED": "true",
        "KUROBARA_MAX_CONSECUTIVE_FAILURES": "1",
        "KUROBARA_CHECK_TIMEOUT": "5",
    }


async def test_admin_enables_five_catalog_sites_and_sees_them_on_providers(
    page: Any, server: Server, shots: Screenshots, index: FakeCatalogIndex
) -> None:
    server.register("alice", PASSWORD)
    await page.goto("/login")
    await log_in(page, "alice")
    nav = page.get_by_role("navigation", name="Main")
    await nav.get_by_role("link", name="Sources").click()
    await page.wait_for_url("**/sources")
    await page.locator("[data-hash]").wait_for()
    await page.get_by_label("Search by name").fill("Community Madara")
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_url("**/sources?q=*")
    await shots("sources")
    chosen = list(index.entries[:5])
    for entry in chosen:
        row = page.locator(f'tr[data-source="{entry["id"]}"]')
        await row.get_by_role("button", name=f"Enable {entry['name']}").click()
        await page.get_by_text("Source enabled").wait_for()
        await page.locator(f'tr[data-source="{entry["id"]}"][data-state="enabled"]').wait_for()
    await shots("five-enabled")
    await nav.get_by_role("link", name="Providers").click()
    await page.wait_for_url("**/providers")
    rows = page.locator("tr.provider-row")
    await expect(rows).to_have_count(5)
    for entry in chosen:
        row = page.locator(f'tr[data-provider-id="{entry["id"]}"]')
        await row.locator('[data-field="badge"][data-status="down"]').wait_for(timeout=30_000)
        assert (await row.locator(".error-kind").inner_text()).strip() == "dns"
    await shots("providers-down-dns")
    for entry in index.entries[5:]:
        await expect(page.locator(f'tr[data-provider-id="{entry["id"]}"]')).to_have_count(0)
