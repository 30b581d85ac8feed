"""Personal access tokens through the HTTP stack: shown once, stored hashed, scoped, revocable,
and private to their owner."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from sqlalchemy import select

from kurobara.db.engine import Database
from kurobara.users.models import PersonalToken
from tests.factories import UserFactory


async def make(client: httpx.AsyncClient, headers: dict[str, str], scope: str) -> dict[str, str]:
    made = await client.post(
        "/api/v1/tokens", json={"name": f"{scope} script", "scope": scope}, headers=headers
    )
    assert made.status_code == 201, made.text
    body: dict[str, str] = made.json()
    return body


async def test_a_token_is_shown_once_and_stored_hashed(
    client: httpx.AsyncClient, users: UserFactory, db: Database
) -> None:
    bob = await users.bob()
    made = await make(client, bob.headers, "read")
    assert made["token"].startswith("kbt_")
    listed = (await client.get("/api/v1/tokens", headers=bob.headers)).json()
    assert [t["name"] for t in listed] == ["read script"]
    assert "token" not in listed[0]
    async with db.session() as session:
        stored = (await session.scalars(select(PersonalToken.token_hash))).all()
    assert stored == [hashlib.sha256(made["token"].encode()).hexdigest()]


async def test_a_read_token_reads_but_cannot_write(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    pat = {"Authorization": f"Bearer {(await make(client, bob.headers, 'read'))['token']}"}
    assert (await client.get("/api/v1/library/", headers=pat)).status_code == 200
    refused = await client.post("/api/v1/tokens", json={"name": "x"}, headers=pat)
    assert refused.status_code == 403
    assert (await client.get("/api/v1/tokens", headers=bob.headers)).json()[0]["last_used_at"]


async def test_a_write_token_writes(client: httpx.AsyncClient, users: UserFactory) -> None:
    bob = await users.bob()
    pat = {"Authorization": f"Bearer {(await make(client, bob.headers, 'write'))['token']}"}
    assert (await client.post("/api/v1/tokens", json={"name": "y"}, headers=pat)).status_code == 201


async def test_a_revoked_token_stops_at_once(client: httpx.AsyncClient, users: UserFactory) -> None:
    bob = await users.bob()
    made = await make(client, bob.headers, "read")
    pat = {"Authorization": f"Bearer {made['token']}"}
    gone = await client.delete(f"/api/v1/tokens/{made['id']}", headers=bob.headers)
    assert gone.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=pat)).status_code == 401


async def test_tokens_are_private_to_their_owner(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    charlie = await users.charlie()
    made = await make(client, bob.headers, "read")
    assert (await client.get("/api/v1/tokens", headers=charlie.headers)).json() == []
    stolen = await client.delete(f"/api/v1/tokens/{made['id']}", headers=charlie.headers)
    assert stolen.status_code == 404
    assert len((await client.get("/api/v1/tokens", headers=bob.headers)).json()) == 1


@pytest.mark.parametrize(
    "payload", [{}, {"name": ""}, {"name": "x" * 101}, {"name": "x", "scope": "admin"}]
)
async def test_bad_token_requests_are_422(
    client: httpx.AsyncClient, users: UserFactory, payload: dict[str, str]
) -> None:
    bob = await users.bob()
    assert (
        await client.post("/api/v1/tokens", json=payload, headers=bob.headers)
    ).status_code == 422
    assert (await client.get("/api/v1/tokens", headers=bob.headers)).json() == []


async def test_a_made_up_token_is_401(client: httpx.AsyncClient) -> None:
    made_up = {"Authorization": "Bearer kbt_not-a-real-token"}
    assert (await client.get("/api/v1/users/me", headers=made_up)).status_code == 401
