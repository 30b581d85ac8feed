"""The header in a real Chromium at desktop and small-window widths: every nav entry an admin
has (the most anyone has, Downloads included) fits the window, or folds behind the menu."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.factories import PASSWORD
from tests.web.conftest import Screenshots, Server
from tests.web.test_browser_account import log_in

pytestmark = pytest.mark.browser

# Up to this width the nav folds behind the menu button (css/kurobara.css).
FOLDED_NAV_MAX_WIDTH = 1220


@pytest.mark.parametrize(
    "viewport",
    [{"width": w, "height": 800} for w in (1000, 1221, 1280, 1401, 1600, 1920)],
    ids=lambda v: str(v["width"]),
)
async def test_every_nav_entry_fits_the_window_or_folds_behind_the_menu(
    page: Any, server: Server, viewport: dict[str, int], shots: Screenshots
) -> None:
    server.register("ada", PASSWORD)  # the first account: an admin
    await page.goto("/downloads")
    await log_in(page, "ada")
    await page.wait_for_url("**/downloads")
    await page.locator("[data-downloads-empty]").wait_for()  # its API calls are answered
    nav = page.get_by_role("navigation", name="Main")
    if viewport["width"] <= FOLDED_NAV_MAX_WIDTH:
        await page.get_by_role("button", name="Menu").click()
    await expect(nav.get_by_role("link", name="Downloads")).to_be_visible()
    await expect(nav.get_by_role("link", name="Users")).to_be_visible()
    edges = await page.evaluate(
        "() => [...document.querySelectorAll('.site-header *')]"
        ".map((e) => e.getBoundingClientRect().right)"
    )
    assert max(edges) <= viewport["width"], "the header fits the window"
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    if viewport["width"] > FOLDED_NAV_MAX_WIDTH:
        brand = await page.locator(".brand").bounding_box()
        first = await nav.get_by_role("link", name="Search").bounding_box()
        assert first["x"] >= brand["x"] + brand["width"] + 4, "the brand and the nav touch"
    await shots("header")
