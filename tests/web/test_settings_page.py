"""The settings page over HTTP: check interval and password change through the users service."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import PASSWORD, UserFactory
from tests.web.helpers import SESSION_COOKIE, post_form, set_cookie_headers, web_login

NEW_PASSWORD = "another-long-passphrase"


async def interval_of(client: httpx.AsyncClient, users: UserFactory, name: str) -> int:
    me = await client.get("/api/v1/users/me", headers=users.made[name].headers)
    return int(me.json()["provider_check_interval"])


async def test_settings_shows_the_current_interval_checked(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    await web_login(client, "bob")
    page = await client.get("/settings")
    assert page.status_code == 200
    assert 'value="60"\n               checked' in page.text or 'value="60" checked' in page.text
    for label in ("30 minutes", "1 hour", "2 hours", "1 day", "1 week", "30 days"):
        assert label in page.text


async def test_it_saves_the_check_interval(client: httpx.AsyncClient, users: UserFactory) -> None:
    await users.bob()
    await web_login(client, "bob")
    response = await post_form(client, "/settings/check-interval", {"interval": "1440"})
    assert response.status_code == 303
    assert response.headers["location"] == "/settings"
    assert await interval_of(client, users, "bob") == 1440
    assert "Check interval saved." in (await client.get("/settings")).text


@pytest.mark.parametrize("value", ["45", "0", "-30", "abc", "", "1e3"])
async def test_it_refuses_an_interval_off_the_list(
    client: httpx.AsyncClient, users: UserFactory, value: str
) -> None:
    await users.bob()
    await web_login(client, "bob")
    response = await post_form(client, "/settings/check-interval", {"interval": value})
    assert response.status_code == 422
    assert "Choose one of the listed intervals." in response.text
    assert await interval_of(client, users, "bob") == 60


async def test_saving_the_interval_needs_the_csrf_token(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    await web_login(client, "bob")
    response = await post_form(client, "/settings/check-interval", {"interval": "30"}, token=False)
    assert response.status_code == 403
    assert await interval_of(client, users, "bob") == 60


async def test_a_wrong_csrf_token_is_refused(client: httpx.AsyncClient, users: UserFactory) -> None:
    await users.bob()
    await web_login(client, "bob")
    response = await client.post(
        "/settings/check-interval", data={"interval": "30", "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert await interval_of(client, users, "bob") == 60


async def test_posting_settings_signed_out_goes_to_login(client: httpx.AsyncClient) -> None:
    response = await post_form(client, "/settings/check-interval", {"interval": "30"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


async def test_it_changes_the_password_and_keeps_this_browser_signed_in(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    old_token = users.made["bob"].token
    await web_login(client, "bob")
    data = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    response = await post_form(client, "/settings/password", data)
    assert response.status_code == 303
    assert set_cookie_headers(response, SESSION_COOKIE), "a fresh session for this browser"
    page = await client.get("/settings")
    assert "Password changed." in page.text
    stale = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {old_token}"})
    assert stale.status_code == 401
    await users.login("bob", password=NEW_PASSWORD)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (
            {"current_password": "wrong-password-1", "new_password": NEW_PASSWORD},
            400,
            "The current password is wrong.",
        ),
        (
            {"current_password": PASSWORD, "new_password": "short"},
            422,
            "at least 8 characters",
        ),
        (
            {"current_password": PASSWORD, "new_password": "password1"},
            422,
            "Password is too common",
        ),
    ],
)
async def test_password_change_errors_are_shown(
    client: httpx.AsyncClient,
    users: UserFactory,
    data: dict[str, str],
    status: int,
    message: str,
) -> None:
    await users.bob()
    await web_login(client, "bob")
    form = {**data, "confirm_password": data["new_password"]}
    response = await post_form(client, "/settings/password", form)
    assert response.status_code == status
    assert message in response.text
    await users.login("bob")


async def test_password_confirmation_must_match(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    await web_login(client, "bob")
    data = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD + "x",
    }
    response = await post_form(client, "/settings/password", data)
    assert response.status_code == 422
    assert "The two new passwords differ." in response.text
    await users.login("bob")


async def test_a_bearer_token_does_not_sign_in_a_page(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    response = await client.get("/settings", headers=bob.headers)
    assert response.status_code == 303
