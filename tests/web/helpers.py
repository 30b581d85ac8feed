"""Driving the web forms over HTTP: fetch a page for its CSRF cookie, post forms with it."""

from __future__ import annotations

import httpx

from tests.factories import PASSWORD

CSRF_COOKIE = "kurobara_csrf"
SESSION_COOKIE = "kurobara_session"


async def csrf(client: httpx.AsyncClient) -> str:
    """The CSRF token of this client's cookie jar, fetching the login page to get one."""
    if CSRF_COOKIE not in client.cookies:
        await client.get("/login")
    return client.cookies[CSRF_COOKIE]


async def post_form(
    client: httpx.AsyncClient, url: str, data: dict[str, str] | None = None, *, token: bool = True
) -> httpx.Response:
    form = dict(data or {})
    if token:
        form["csrf_token"] = await csrf(client)
    return await client.post(url, data=form)


async def web_login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, next_url: str = ""
) -> httpx.Response:
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return await post_form(client, "/login", data)


def set_cookie_headers(response: httpx.Response, name: str) -> list[str]:
    return [
        value
        for value in response.headers.get_list("set-cookie")
        if value.lower().startswith(name.lower() + "=")
    ]
