"""Route matching skips the routers a path cannot reach (``kurobara.routing``), and answers
every request as FastAPI's own matching does: the route, 404, 405 and the trailing-slash
redirect (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from kurobara import routing
from tests.factories import UserFactory


@pytest.mark.parametrize(
    ("path", "start"),
    [
        ("/favorites/{manga_id}/status", "/favorites/"),
        ("/healthz", "/healthz"),
        ("/{page}", "/"),
        ("", ""),
    ],
)
def test_literal_start_ends_at_the_first_parameter(path: str, start: str) -> None:
    assert routing.literal_start(path) == start


def test_shared_start_is_by_character_not_by_segment() -> None:
    assert routing.shared_start(["/api/v1/users", "/api/v1/users/me"]) == "/api/v1/users"
    assert routing.shared_start(["/api/v1/manga/", "/api/v1/migrations"]) == "/api/v1/m"
    assert routing.shared_start(["/opds"]) == "/opds"


def _branches(routes: list[Any]) -> list[Any]:
    found = []
    for route in routes:
        if routing.Branch is not None and isinstance(route, routing.Branch):
            found.append(route)
            found += _branches(route.effective_candidates())
    return found


def test_every_router_of_the_app_is_guarded(app: FastAPI) -> None:
    """With this FastAPI the guard is in place, and no router of the app is left to be asked
    on every request (an upgrade that changed FastAPI's branches would show here)."""
    assert routing.install()
    starts = {routing.branch_start(branch) for branch in _branches(app.router.routes)}
    assert None not in starts
    assert {"/api/v1/", "/api/v1/favorites/", "/opds", "/metrics"} <= starts


async def test_requests_are_routed_as_before(client: httpx.AsyncClient, users: UserFactory) -> None:
    bob = await users.bob()
    assert (await client.get("/healthz")).status_code == 200
    count = await client.get("/api/v1/favorites/count", headers=bob.headers)
    assert count.status_code == 200
    assert count.json()["count"] == 0
    # A path parameter inside a guarded router, and one that fails its validation.
    manga = "00000000-0000-0000-0000-000000000000"
    status = await client.get(f"/api/v1/favorites/{manga}/status", headers=bob.headers)
    assert (status.status_code, status.json()["detail"]) == (404, "Manga not found")
    assert (await client.get("/api/v1/favorites/x/status", headers=bob.headers)).status_code == 422
    # The route exists for other methods: 405 with what it allows.
    refused = await client.put("/api/v1/favorites/count", headers=bob.headers)
    assert refused.status_code == 405
    assert "GET" in refused.headers["allow"]
    # No route at all (FastAPI's own 404), inside the API's prefix and outside every router's.
    for path in ("/api/v1/favoritesx", "/api/v2/favorites/count"):
        missing = await client.get(path, headers=bob.headers)
        assert (missing.status_code, missing.json()["detail"]) == (404, "Not Found")
    # Without its trailing slash, a collection redirects to it.
    bare = await client.get("/api/v1/favorites", headers=bob.headers)
    assert bare.status_code == 307
    assert bare.headers["location"].endswith("/api/v1/favorites/")
