"""Concurrent requests against the account rules: one first admin, and a login limit that holds
when the guesses arrive all at once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.users import service as user_service
from tests.factories import PASSWORD, UserFactory

GUESSES = 40


async def test_concurrent_first_registrations_make_exactly_one_admin(
    client: httpx.AsyncClient, db: Database
) -> None:
    async def register(i: int) -> httpx.Response:
        return await client.post(
            "/api/v1/auth/register",
            json={"username": f"user{i}", "email": f"user{i}@example.org", "password": PASSWORD},
        )

    responses = await asyncio.gather(*(register(i) for i in range(20)))
    assert [r.status_code for r in responses] == [201] * 20
    assert sum(r.json()["is_superuser"] for r in responses) == 1
    async with db.session() as session:
        assert await user_service.count_superusers(db_session=session) == 1


async def _guess_concurrently(client: httpx.AsyncClient) -> list[int]:
    await UserFactory(client).register("bob")
    bad = {"username": "bob", "password": "wrong-password-1"}
    responses = await asyncio.gather(
        *(client.post("/api/v1/auth/login", data=bad) for _ in range(GUESSES))
    )
    return [r.status_code for r in responses]


async def test_concurrent_wrong_passwords_check_at_most_the_limit(
    client: httpx.AsyncClient,
) -> None:
    codes = await _guess_concurrently(client)
    assert codes.count(401) <= 5, "only the first five guesses may have their password checked"
    assert codes.count(429) == GUESSES - codes.count(401)


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    if "redis" in request.node.name:
        return {"redis_url": request.getfixturevalue("redis_url")}
    if "workers" in request.node.name:
        return {"workers": 2}
    return {}


async def test_concurrent_wrong_passwords_check_at_most_the_limit_with_redis(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    assert settings.redis_url
    codes = await _guess_concurrently(client)
    assert codes.count(401) <= 5
    assert codes.count(429) == GUESSES - codes.count(401)


async def test_concurrent_wrong_passwords_check_at_most_the_limit_shared_by_workers(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    # Without Redis, the workers of one machine count in one file, each attempt in a
    # transaction of its own (users/throttle.py, FileLoginThrottle).
    assert (settings.workers, settings.redis_url) == (2, None)
    assert (settings.data_dir / "run" / "logins.db").is_file()
    codes = await _guess_concurrently(client)
    assert codes.count(401) <= 5
    assert codes.count(429) == GUESSES - codes.count(401)
