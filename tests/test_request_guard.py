"""What no route may see: oversized bodies (413 before they are read), NUL characters (422),
non-finite JSON numbers (422), and paths that only look like a route (404)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.factories import PASSWORD, UserFactory

MIB = 1024 * 1024
IMPORT = "/api/v1/favorites/import"


class CountingBody:
    """A request body of ``chunks`` MiB that counts how much of it the server pulled."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"items": ['
        for _ in range(self.chunks):
            self.sent += 1
            yield b" " * MIB


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_big_unauthenticated_import_is_413_before_it_is_read(
    client: httpx.AsyncClient, declared: bool
) -> None:
    body = CountingBody(96)
    headers = {"content-type": "application/json"}
    if declared:
        headers["content-length"] = str(96 * MIB + 11)
    response = await client.post(IMPORT, content=body, headers=headers)
    assert response.status_code == 413
    assert "at most" in response.json()["detail"]
    assert body.sent <= 33, "the body past the import limit must not be read"


async def test_an_import_under_its_limit_reaches_authentication(client: httpx.AsyncClient) -> None:
    items = [{"title": f"Manga {i}", "notes": "n" * 200} for i in range(8000)]
    body = json.dumps({"items": items})
    assert len(body) > 1 * MIB
    response = await client.post(IMPORT, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 401


async def test_other_routes_refuse_bodies_over_a_mebibyte(client: httpx.AsyncClient) -> None:
    body = json.dumps({"username": "bob", "email": "b@example.org", "password": "x" * (2 * MIB)})
    response = await client.post(
        "/api/v1/auth/register", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def _nul_requests(client: httpx.AsyncClient, users: UserFactory) -> list[httpx.Response]:
    alice = await users.alice()
    bob = await users.bob()
    json_nul = '{"username": "bo\\u0000b", "email": "x@example.org", "password": "long-enough-1"}'
    return [
        await client.post("/api/v1/auth/login", data={"username": "bo\x00b", "password": "x"}),
        await client.post(
            "/api/v1/auth/login",
            files={"username": (None, "bo\x00b"), "password": (None, "x")},
        ),
        await client.post("/login", data={"username": "bo\x00b", "password": "x"}),
        await client.post(
            "/api/v1/auth/register",
            content=json_nul,
            headers={"content-type": "application/json"},
        ),
        await client.get("/api/v1/providers/md%00", headers=bob.headers),
        await client.get("/api/v1/providers/md%00/history", headers=bob.headers),
        await client.patch(
            "/api/v1/providers/md%00/status", json={"is_enabled": False}, headers=alice.headers
        ),
        await client.get("/api/v1/favorites/?search=a%00b", headers=bob.headers),
        await client.get("/api/v1/search?q=%00", headers=bob.headers),
    ]


async def test_nul_characters_are_refused_wherever_text_enters(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    for response in await _nul_requests(client, users):
        assert response.status_code == 422, (response.request.url, response.text)
        assert response.json()["detail"][0]["msg"] == "NUL characters are not allowed in requests"


async def test_an_escaped_backslash_before_u0000_is_not_a_nul(client: httpx.AsyncClient) -> None:
    body = '{"username": "bob\\\\u0000", "email": "b@example.org", "password": "long-enough-1"}'
    response = await client.post(
        "/api/v1/auth/register", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422  # the username pattern refuses the backslash


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_non_finite_numbers_are_422_unauthenticated(
    client: httpx.AsyncClient, number: str
) -> None:
    body = f'{{"username": {number}, "email": "b@example.org", "password": {number}}}'
    response = await client.post(
        "/api/v1/auth/register", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e400"])
async def test_a_non_finite_number_in_an_authenticated_body_is_422(
    client: httpx.AsyncClient, users: UserFactory, number: str
) -> None:
    bob = await users.bob()
    body = f'{{"manga_ids": ["{bob.id}"], "is_favorite": {number}}}'
    response = await client.patch(
        "/api/v1/favorites/bulk",
        content=body,
        headers={**bob.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/library/%0A",
        "/api/v1/favorites/%0A",
        "/api/v1/providers/%0A",
        "/api/v1/users/me%0A",
        "/healthz%0A",
        "/static/css/kurobara.css%0A",
    ],
)
async def test_a_trailing_newline_does_not_route_to_a_neighbour(
    client: httpx.AsyncClient, users: UserFactory, path: str
) -> None:
    bob = await users.bob()
    response = await client.get(path, headers=bob.headers)
    assert response.status_code == 404, response.text


async def test_the_web_login_still_takes_a_plain_form(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    page = await client.get("/login")
    csrf = page.cookies.get("kurobara_csrf") or client.cookies.get("kurobara_csrf")
    response = await client.post(
        "/login", data={"username": "bob", "password": PASSWORD, "csrf_token": csrf or ""}
    )
    assert response.status_code == 303
