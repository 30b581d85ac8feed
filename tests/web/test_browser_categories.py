"""Categories and removal in a real Chromium: make categories in the Library's panel, move
selected titles to one, filter with the tabs, reorder and rename; removing asks first and
offers Undo, which puts the entry back with its rating, notes and categories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from kurobara.db.engine import Database
from tests.conftest import TLS
from tests.factories import PASSWORD, MangaFactory
from tests.web.conftest import Screenshots, Server
from tests.web.test_browser_account import log_in
from tests.web.test_browser_browse import api_token

pytestmark = pytest.mark.browser


async def _library_of(server: Server, db_url: str, titles: list[str]) -> dict[str, str]:
    """Bob's account with these manga in his library; returns title → manga id."""
    server.register("bob", PASSWORD)
    db = Database(db_url)
    try:
        made = {t: str((await MangaFactory(db).create(t)).id) for t in titles}
    finally:
        await db.dispose()
    async with _api(server) as api:
        for manga_id in made.values():
            assert (await api.post(f"/api/v1/library/{manga_id}")).status_code == 200
    return made


def _api(server: Server) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers=api_token(server, "bob"), timeout=10, verify=TLS
    )


async def test_categories_tabs_bulk_move_reorder_and_rename(
    page: Any, server: Server, db_url: str, shots: Screenshots
) -> None:
    await _library_of(server, db_url, ["Alpha", "Beta", "Gamma"])
    await page.goto("/library")
    await log_in(page, "bob")
    await page.wait_for_url("**/library")

    panel = page.locator("[data-categories-panel]")
    await panel.get_by_text("Edit categories").click()
    for name in ("Reading", "Done"):
        await page.get_by_label("New category name").fill(name)
        await page.get_by_role("button", name="Add category").click()
        await page.locator(f'[data-category-name][value="{name}"]').wait_for()
    tabs = page.get_by_role("navigation", name="Categories").get_by_role("link")
    await expect(tabs).to_have_text(["All", "Reading 0", "Done 0"])
    await shots("categories-made")

    cards = page.locator("[data-collection] .cover-card")
    for title in ("Alpha", "Gamma"):
        await cards.filter(has_text=title).locator("[data-select]").check()
    await page.locator("[data-bulk-category]").select_option(label="Done")
    await page.get_by_role("button", name="Move to").click()
    await page.get_by_text("Moved 2 to Done.").wait_for()

    await tabs.filter(has_text="Done").click()
    await page.wait_for_url("**category_id=**")
    assert sorted(await cards.locator(".cover-title").all_inner_texts()) == ["Alpha", "Gamma"]
    assert await tabs.filter(has_text="Done").get_attribute("aria-current") == "page"
    await shots("category-tab")

    await tabs.filter(has_text="Reading").click()
    await page.get_by_text("No titles in this category yet").wait_for()

    await panel.get_by_text("Edit categories").click()
    await page.get_by_role("button", name="Move Done up").click()
    await page.get_by_role("button", name="Move Done down").wait_for()
    await expect(tabs).to_have_text(["All", "Done 2", "Reading 0"])
    await page.get_by_label("Name of Reading").fill("Now reading")
    await page.locator(
        '[data-category-id]:has([value="Reading"]) [data-category-action="rename"]'
    ).click()
    await page.locator('[data-category-name][value="Now reading"]').wait_for()
    await expect(tabs).to_have_text(["All", "Done 2", "Now reading 0"])
    await shots("categories-edited")


async def test_removing_asks_first_and_undo_puts_the_entry_back(
    page: Any, server: Server, db_url: str, shots: Screenshots
) -> None:
    made = await _library_of(server, db_url, ["Keeper"])
    async with _api(server) as api:
        category = (await api.post("/api/v1/categories/", json={"name": "Shelf"})).json()["id"]
        body = {"rating": 4.5, "notes": "mine", "category_ids": [category], "is_favorite": True}
        edited = await api.patch(f"/api/v1/library/{made['Keeper']}", json=body)
        assert edited.status_code == 200

    await page.goto("/library")
    await log_in(page, "bob")
    await page.wait_for_url("**/library")
    cards = page.locator("[data-collection] .cover-card")
    await page.get_by_label("Select all on this page").check()
    await page.get_by_role("button", name="Remove", exact=True).click()
    dialog = page.locator("dialog.confirm-dialog")
    await dialog.wait_for()
    await shots("remove-confirm")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(cards).to_have_count(1)

    await page.get_by_role("button", name="Remove", exact=True).click()
    await dialog.locator("[data-confirm]").click()
    await page.get_by_text("Removed 1 from your library.").wait_for()
    await page.locator(".empty").wait_for()
    await shots("removed-with-undo")
    await page.get_by_role("button", name="Undo").click()
    await cards.first.wait_for()

    async with _api(server) as api:
        entry = (await api.get(f"/api/v1/library/{made['Keeper']}")).json()
    assert (entry["rating"], entry["notes"], entry["is_favorite"]) == (4.5, "mine", True)
    assert [c["name"] for c in entry["categories"]] == ["Shelf"]


async def test_back_up_the_library_and_restore_it_with_a_dry_run_first(
    page: Any, server: Server, db_url: str, shots: Screenshots, tmp_path: Path
) -> None:
    made = await _library_of(server, db_url, ["Saved"])
    async with _api(server) as api:
        shelf = (await api.post("/api/v1/categories/", json={"name": "Shelf"})).json()["id"]
        body = {"rating": 2, "category_ids": [shelf]}
        assert (await api.patch(f"/api/v1/library/{made['Saved']}", json=body)).is_success

    await page.goto("/library")
    await log_in(page, "bob")
    await page.wait_for_url("**/library")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Back up library").click()
    saved = tmp_path / "library.json"
    await (await download_info.value).save_as(saved)

    async with _api(server) as api:
        assert (await api.delete(f"/api/v1/library/{made['Saved']}")).status_code == 204
        assert (await api.delete(f"/api/v1/categories/{shelf}")).status_code == 204
    await page.reload()
    await page.locator(".empty").wait_for()
    await page.locator("[data-backup-file]").set_input_files(str(saved))
    summary = page.locator("[data-backup-summary]")
    await expect(summary).to_contain_text("This backup would bring: 1 title to add")
    await shots("restore-dry-run")
    await page.get_by_role("button", name="Import now").click()
    await expect(summary).to_contain_text("Restored: 1 title added, 0 already here, 1 new category")
    await page.reload()
    tabs = page.get_by_role("navigation", name="Categories").get_by_role("link")
    await expect(tabs).to_have_text(["All", "Shelf 1"])
    async with _api(server) as api:
        entry = (await api.get(f"/api/v1/library/{made['Saved']}")).json()
    assert entry["rating"] == 2


async def test_favorites_import_a_csv_export(
    page: Any, server: Server, db_url: str, tmp_path: Path
) -> None:
    made = await _library_of(server, db_url, ["Starred later"])
    csv_file = tmp_path / "favorites.csv"
    csv_file.write_text(f"manga_id,title,rating,sources\n{made['Starred later']},x,4,\n")
    await page.goto("/favorites")
    await log_in(page, "bob")
    await page.wait_for_url("**/favorites")
    await page.locator("[data-import-csv]").set_input_files(str(csv_file))
    summary = page.locator("[data-import-summary]")
    await expect(summary).to_contain_text("Import finished: 1 imported")
    async with _api(server) as api:
        entry = (await api.get(f"/api/v1/library/{made['Starred later']}")).json()
    assert (entry["is_favorite"], entry["rating"]) == (True, 4)
