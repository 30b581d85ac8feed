"""The account pages in a real Chromium: register, settings, password change, logout, errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.web.conftest import Screenshots, Server

pytestmark = pytest.mark.browser

NEW_PASSWORD = "another-long-passphrase"


async def log_in(page: Any, username: str, password: str = PASSWORD) -> None:
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()


async def test_register_lands_signed_in_on_search(page: Any, shots: Screenshots) -> None:
    await page.goto("/")
    await page.wait_for_url("**/login")
    await shots("login")
    await page.get_by_role("link", name="Create an account").click()
    await page.wait_for_url("**/register")
    await page.get_by_label("Username").fill("dana")
    await page.get_by_label("Email").fill("dana@example.org")
    await page.get_by_label("Password").fill(PASSWORD)
    await shots("register")
    await page.get_by_role("button", name="Create account").click()
    await page.wait_for_url("**/search")
    await page.get_by_text("Welcome to Kurobara!").wait_for()
    nav = page.get_by_role("navigation", name="Main")
    assert await nav.get_by_text("dana").is_visible()
    assert await nav.get_by_text("admin").is_visible(), "the first account is the admin"
    assert await nav.get_by_role("link", name="Search").get_attribute("aria-current") == "page"
    await shots("search")


async def test_register_shows_field_errors(page: Any, shots: Screenshots) -> None:
    await page.goto("/register")
    await page.get_by_label("Username").fill("x")
    await page.get_by_label("Email").fill("not-an-email")
    await page.get_by_label("Password").fill("password")
    await page.get_by_role("button", name="Create account").click()
    await page.get_by_text("at least 3 characters").wait_for()
    assert await page.get_by_label("Username").get_attribute("aria-invalid") == "true"
    assert await page.get_by_label("Username").input_value() == "x"
    await shots("register-errors")


async def test_check_interval_change_persists(
    page: Any, server: Server, shots: Screenshots
) -> None:
    server.register("bob", PASSWORD)
    await page.goto("/settings")
    await page.wait_for_url("**/login?next=/settings")
    await log_in(page, "bob")
    await page.wait_for_url("**/settings")
    assert await page.get_by_label("1 hour").is_checked()
    await page.get_by_label("1 day").check()
    await page.get_by_role("button", name="Save interval").click()
    await page.get_by_text("Check interval saved.").wait_for()
    await shots("interval-saved")
    await page.reload()
    assert await page.get_by_label("1 day").is_checked()
    assert not await page.get_by_text("Check interval saved.").is_visible()


async def test_password_change_then_login_with_the_new_one(
    page: Any, server: Server, shots: Screenshots
) -> None:
    server.register("bob", PASSWORD)
    await page.goto("/login?next=/settings")
    await log_in(page, "bob")
    await page.wait_for_url("**/settings")
    await page.get_by_label("Current password").fill(PASSWORD)
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await page.get_by_text("Password changed.").wait_for()
    await shots("password-changed")
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url("**/login")
    await log_in(page, "bob", PASSWORD)
    await page.get_by_text("Incorrect username or password.").wait_for()
    await log_in(page, "bob", NEW_PASSWORD)
    await page.wait_for_url("**/search")


async def test_logout_returns_to_login_and_protects_pages(
    page: Any, server: Server, shots: Screenshots
) -> None:
    server.register("bob", PASSWORD)
    await page.goto("/login")
    await log_in(page, "bob")
    await page.wait_for_url("**/search")
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url("**/login")
    await page.get_by_text("You are logged out.").wait_for()
    await shots("logged-out")
    assert "kurobara_session" not in {c["name"] for c in await page.context.cookies()}
    await page.goto("/settings")
    await page.wait_for_url("**/login?next=/settings")


async def test_wrong_password_shows_a_message(
    page: Any, server: Server, shots: Screenshots
) -> None:
    server.register("bob", PASSWORD)
    await page.goto("/login")
    await log_in(page, "bob", "wrong-password-1")
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "Incorrect username or password." in await alert.inner_text()
    assert await page.get_by_label("Username").input_value() == "bob"
    await shots("wrong-password")


@pytest.mark.parametrize("server_env", [{"KUROBARA_LOGIN_MAX_FAILURES": "2"}])
async def test_throttled_login_says_when_to_retry(
    page: Any, server: Server, shots: Screenshots
) -> None:
    server.register("bob", PASSWORD)
    await page.goto("/login")
    for _ in range(2):
        await log_in(page, "bob", "wrong-password-1")
        await page.get_by_text("Incorrect username or password.").wait_for()
    await log_in(page, "bob")
    await page.get_by_text("Too many failed logins. Try again in 15 minutes.").wait_for()
    await shots("throttled")
