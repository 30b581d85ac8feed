"""Login, registration and logout pages over HTTP: redirects, cookies, messages, throttle."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import PASSWORD, UserFactory
from tests.web.helpers import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    csrf,
    post_form,
    set_cookie_headers,
    web_login,
)


async def test_root_sends_a_visitor_to_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


async def test_root_sends_a_signed_in_user_home(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    await web_login(client, "bob")
    response = await client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/search"


async def test_protected_page_redirects_to_login_with_next(client: httpx.AsyncClient) -> None:
    response = await client.get("/settings", params={"tab": "x"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/settings%3Ftab%3Dx"


async def test_login_page_sets_a_readable_csrf_cookie(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.text
    (cookie,) = set_cookie_headers(response, CSRF_COOKIE)
    assert "samesite=lax" in cookie.lower()
    assert "httponly" not in cookie.lower()
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


async def test_login_sets_httponly_lax_session_cookie(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    response = await web_login(client, "bob")
    assert response.status_code == 303
    (session,) = set_cookie_headers(response, SESSION_COOKIE)
    assert "httponly" in session.lower()
    assert "samesite=lax" in session.lower()
    assert "secure" not in session.lower()
    assert set_cookie_headers(response, CSRF_COOKIE), "the CSRF token rotates at login"
    me = await client.get("/settings")
    assert me.status_code == 200
    assert "bob" in me.text


async def test_login_over_https_marks_cookies_secure(app: object, users: UserFactory) -> None:
    await users.bob()
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://kurobara.test") as client:
        response = await web_login(client, "bob")
    assert response.status_code == 303
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        (cookie,) = set_cookie_headers(response, name)
        assert "secure" in cookie.lower(), name


async def test_login_follows_a_relative_next(client: httpx.AsyncClient, users: UserFactory) -> None:
    await users.bob()
    response = await web_login(client, "bob", next_url="/settings?tab=password")
    assert response.headers["location"] == "/settings?tab=password"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/ok\r\nSet-Cookie: x=1",
    ],
)
async def test_login_refuses_an_offsite_next(
    client: httpx.AsyncClient, users: UserFactory, next_url: str
) -> None:
    await users.bob()
    page = await client.get("/login", params={"next": next_url})
    assert 'name="next"' not in page.text
    response = await web_login(client, "bob", next_url=next_url)
    assert response.status_code == 303
    assert response.headers["location"] == "/search"


async def test_wrong_password_shows_a_message(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    response = await web_login(client, "bob", "wrong-password-1")
    assert response.status_code == 401
    assert "Incorrect username or password." in response.text
    assert not set_cookie_headers(response, SESSION_COOKIE)


async def test_web_and_api_failures_share_one_throttle(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    for _ in range(5):
        assert (await web_login(client, "bob", "wrong-password-1")).status_code == 401
    page = await web_login(client, "bob")
    assert page.status_code == 429
    assert "Too many failed logins. Try again in 15 minutes." in page.text
    assert int(page.headers["Retry-After"]) > 0
    api = await client.post("/api/v1/auth/login", data={"username": "bob", "password": PASSWORD})
    assert api.status_code == 429


async def test_login_without_csrf_token_is_refused(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    await csrf(client)
    response = await post_form(
        client, "/login", {"username": "bob", "password": PASSWORD}, token=False
    )
    assert response.status_code == 403
    assert "security token" in response.text
    assert not set_cookie_headers(response, SESSION_COOKIE)


async def test_register_creates_the_account_and_signs_in(client: httpx.AsyncClient) -> None:
    data = {"username": "dana", "email": "dana@example.org", "password": PASSWORD}
    response = await post_form(client, "/register", data)
    assert response.status_code == 303
    assert response.headers["location"] == "/search"
    assert set_cookie_headers(response, SESSION_COOKIE)
    page = await client.get("/settings")
    assert "Welcome to Kurobara!" in page.text
    assert "Welcome to Kurobara!" not in (await client.get("/settings")).text


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({"username": "x", "email": "x@example.org"}, "at least 3 characters"),
        ({"username": "dana", "email": "not-an-email"}, "email"),
        ({"username": "dana", "email": "d@example.org", "password": "password"}, "too common"),
    ],
)
async def test_register_shows_field_errors(
    client: httpx.AsyncClient, data: dict[str, str], field_message: str
) -> None:
    response = await post_form(client, "/register", {"password": PASSWORD, **data})
    assert response.status_code == 422
    assert field_message in response.text
    assert 'aria-invalid="true"' in response.text
    assert not set_cookie_headers(response, SESSION_COOKIE)


async def test_register_with_a_taken_username_says_so(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    data = {"username": "Bob", "email": "other@example.org", "password": PASSWORD}
    response = await post_form(client, "/register", data)
    assert response.status_code == 409
    assert "A user with that username already exists." in response.text


@pytest.mark.parametrize("settings_overrides", [{"registration_enabled": False}])
async def test_register_is_closed_when_disabled(client: httpx.AsyncClient) -> None:
    page = await client.get("/register")
    assert "Registration is closed" in page.text
    assert "Create an account" not in (await client.get("/login")).text
    data = {"username": "dana", "email": "dana@example.org", "password": PASSWORD}
    assert (await post_form(client, "/register", data)).status_code == 403


async def test_logout_needs_the_csrf_token(client: httpx.AsyncClient, users: UserFactory) -> None:
    await users.bob()
    await web_login(client, "bob")
    refused = await post_form(client, "/logout", token=False)
    assert refused.status_code == 403
    assert (await client.get("/settings")).status_code == 200


async def test_logout_clears_the_session(client: httpx.AsyncClient, users: UserFactory) -> None:
    await users.bob()
    await web_login(client, "bob")
    response = await post_form(client, "/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert SESSION_COOKIE not in client.cookies
    assert "You are logged out." in (await client.get("/login")).text
    assert (await client.get("/settings")).status_code == 303


async def test_signed_in_user_skips_the_login_page(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    await web_login(client, "bob")
    response = await client.get("/login", params={"next": "/settings"})
    assert response.status_code == 303
    assert response.headers["location"] == "/settings"


async def test_login_page_says_the_first_account_becomes_the_admin(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    empty = await client.get("/login")
    assert "data-first-run" in empty.text
    assert "first account created becomes the admin" in empty.text
    await users.bob()
    taken = await client.get("/login")
    assert taken.status_code == 200
    assert "data-first-run" not in taken.text


@pytest.mark.parametrize("settings_overrides", [{"registration_enabled": False}])
async def test_first_run_without_registration_points_to_create_admin(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/login")
    assert "data-first-run" in page.text
    assert "kurobara create-admin" in page.text
