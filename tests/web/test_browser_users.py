"""The Users page and API tokens in a real Chromium: an admin disables and deletes a user,
closes registration and hands out an invitation link; a user makes and revokes a token."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.factories import PASSWORD
from tests.web.conftest import Screenshots, Server
from tests.web.test_browser_account import log_in

pytestmark = pytest.mark.browser


async def test_admin_manages_users_and_invites_someone(
    page: Any, server: Server, shots: Screenshots
) -> None:
    server.register("alice", PASSWORD)
    server.register("bob", PASSWORD)
    await page.goto("/login")
    await log_in(page, "alice")
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    await page.wait_for_url("**/admin/users")
    bob_row = page.locator('tr[data-user="bob"]')
    await bob_row.get_by_role("button", name="Disable").click()
    await page.get_by_text("their sessions and tokens stopped").wait_for()
    assert await bob_row.get_by_text("disabled", exact=True).is_visible()
    await shots("users-disabled")
    page.on("dialog", lambda dialog: dialog.accept())
    await bob_row.get_by_role("button", name="Delete").click()
    await page.get_by_text("deleted with their library").wait_for()
    await expect(page.locator('tr[data-user="bob"]')).to_have_count(0)
    await page.get_by_role("button", name="Close registration").click()
    await page.get_by_text("Registration is closed").first.wait_for()
    await page.get_by_label("Note (who it is for)").fill("for dave")
    await page.get_by_role("button", name="Create invitation link").click()
    link = await page.get_by_role("textbox", name="Invitation link").input_value()
    await shots("invitation")
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url("**/login")
    await page.goto(link)
    await page.get_by_text("You were invited").wait_for()
    await page.get_by_label("Username").fill("dave")
    await page.get_by_label("Email").fill("dave@example.org")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await page.get_by_text("Welcome to Kurobara!").wait_for()


async def test_user_creates_and_revokes_an_api_token(
    page: Any, server: Server, shots: Screenshots
) -> None:
    server.register("alice", PASSWORD)
    server.register("bob", PASSWORD)
    await page.goto("/login")
    await log_in(page, "bob")
    await page.goto("/settings")
    await page.get_by_label("Token name").fill("KOReader")
    await page.get_by_role("button", name="Create token").click()
    token = await page.get_by_label("New token").input_value()
    assert token.startswith("kbt_")
    await shots("token-created")
    with server.api() as api:
        me = api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["username"] == "bob"
    await page.get_by_role("button", name="Revoke KOReader").click()
    await page.get_by_text("Token revoked").wait_for()
    with server.api() as api:
        gone = api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert gone.status_code == 401
