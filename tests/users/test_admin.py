"""User management by admins, the registration switch and invitations, through the HTTP stack.
Personas: alice (admin), bob and charlie (regular users)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from kurobara.db.engine import Database
from kurobara.library.models import LibraryEntry
from kurobara.users.models import PersonalToken, User
from tests.factories import PASSWORD, MangaFactory, UserFactory


def creds(username: str, **extra: str) -> dict[str, str]:
    return {"username": username, "email": f"{username}@example.org", "password": PASSWORD, **extra}


async def test_admin_lists_and_searches_users(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    await users.bob()
    await users.charlie()
    listed = await client.get("/api/v1/users", headers=alice.headers)
    assert listed.status_code == 200
    assert [u["username"] for u in listed.json()] == ["alice", "bob", "charlie"]
    assert listed.headers["X-Total-Count"] == "3"
    found = await client.get("/api/v1/users", params={"q": "CHAR"}, headers=alice.headers)
    assert [u["username"] for u in found.json()] == ["charlie"]
    by_email = await client.get("/api/v1/users", params={"q": "bob@"}, headers=alice.headers)
    assert [u["username"] for u in by_email.json()] == ["bob"]


async def test_regular_users_may_not_manage_users(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    charlie = await users.charlie()
    assert (await client.get("/api/v1/users", headers=bob.headers)).status_code == 403
    patched = await client.patch(
        f"/api/v1/users/{charlie.id}", json={"is_active": False}, headers=bob.headers
    )
    assert patched.status_code == 403
    assert (
        await client.delete(f"/api/v1/users/{charlie.id}", headers=bob.headers)
    ).status_code == 403
    put = await client.put("/api/v1/registration", json={"enabled": False}, headers=bob.headers)
    assert put.status_code == 403


async def test_disabling_a_user_stops_their_jwt_and_tokens_at_once(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    bob = await users.bob()
    made = await client.post(
        "/api/v1/tokens", json={"name": "script", "scope": "read"}, headers=bob.headers
    )
    pat = {"Authorization": f"Bearer {made.json()['token']}"}
    assert (await client.get("/api/v1/users/me", headers=pat)).status_code == 200
    off = await client.patch(
        f"/api/v1/users/{bob.id}", json={"is_active": False}, headers=alice.headers
    )
    assert off.status_code == 200
    assert off.json()["is_active"] is False
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 401
    assert (await client.get("/api/v1/users/me", headers=pat)).status_code == 401
    login = await client.post("/api/v1/auth/login", data={"username": "bob", "password": PASSWORD})
    assert login.status_code == 401
    on = await client.patch(
        f"/api/v1/users/{bob.id}", json={"is_active": True}, headers=alice.headers
    )
    assert on.json()["is_active"] is True
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 200


async def test_promoted_user_can_administer_and_demoted_cannot(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    bob = await users.bob()
    up = await client.patch(
        f"/api/v1/users/{bob.id}", json={"is_superuser": True}, headers=alice.headers
    )
    assert up.json()["is_superuser"] is True
    assert (await client.get("/api/v1/users", headers=bob.headers)).status_code == 200
    await client.patch(
        f"/api/v1/users/{bob.id}", json={"is_superuser": False}, headers=alice.headers
    )
    assert (await client.get("/api/v1/users", headers=bob.headers)).status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "", {"is_superuser": False}),
        ("PATCH", "", {"is_active": False}),
        ("DELETE", "", None),
    ],
)
async def test_the_last_admin_stays(
    client: httpx.AsyncClient, users: UserFactory, method: str, path: str, body: object
) -> None:
    alice = await users.alice()
    await users.bob()
    refused = await client.request(
        method, f"/api/v1/users/{alice.id}{path}", json=body, headers=alice.headers
    )
    assert refused.status_code == 409
    assert refused.json()["detail"]["kind"] == "last_admin"
    me = await client.get("/api/v1/users/me", headers=alice.headers)
    assert me.json()["is_superuser"]
    assert me.json()["is_active"]


async def test_a_disabled_admin_does_not_count_as_the_remaining_admin(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    bob = await users.bob()
    await client.patch(
        f"/api/v1/users/{bob.id}", json={"is_superuser": True}, headers=alice.headers
    )
    await client.patch(f"/api/v1/users/{bob.id}", json={"is_active": False}, headers=alice.headers)
    demote = await client.patch(
        f"/api/v1/users/{alice.id}", json={"is_superuser": False}, headers=alice.headers
    )
    assert demote.status_code == 409


async def test_two_admins_demoting_each_other_at_once_leave_one(
    client: httpx.AsyncClient, users: UserFactory, db: Database
) -> None:
    alice = await users.alice()
    bob = await users.bob()
    await client.patch(
        f"/api/v1/users/{bob.id}", json={"is_superuser": True}, headers=alice.headers
    )
    results = await asyncio.gather(
        client.patch(
            f"/api/v1/users/{bob.id}", json={"is_superuser": False}, headers=alice.headers
        ),
        client.patch(
            f"/api/v1/users/{alice.id}", json={"is_superuser": False}, headers=bob.headers
        ),
    )
    # Both requests authenticate as admins and the second write finds itself the last one
    # (409), or one demotion commits before the other request authenticates, which then
    # comes from a user who is no admin any more (403). Never both 200.
    assert sorted(r.status_code for r in results) in ([200, 409], [200, 403])
    async with db.session() as session:
        admins = select(func.count()).where(User.is_superuser.is_(True))
        assert await session.scalar(admins) == 1


async def test_reset_password_signs_the_user_out_and_sets_the_new_one(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    bob = await users.bob()
    reset = await client.post(
        f"/api/v1/users/{bob.id}/password",
        json={"new_password": "a-brand-new-passphrase"},
        headers=alice.headers,
    )
    assert reset.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 401
    await users.login("bob", password="a-brand-new-passphrase")


async def test_reset_password_refuses_a_weak_one(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    bob = await users.bob()
    weak = await client.post(
        f"/api/v1/users/{bob.id}/password", json={"new_password": "password"}, headers=alice.headers
    )
    assert weak.status_code == 422
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 200


async def test_delete_removes_the_user_with_their_data(
    client: httpx.AsyncClient, users: UserFactory, db: Database
) -> None:
    alice = await users.alice()
    bob = await users.bob()
    manga = await MangaFactory(db).create("Bob's pick")
    added = await client.post(f"/api/v1/library/{manga.id}", headers=bob.headers)
    assert added.status_code == 200, added.text
    await client.post("/api/v1/tokens", json={"name": "t"}, headers=bob.headers)
    gone = await client.delete(f"/api/v1/users/{bob.id}", headers=alice.headers)
    assert gone.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 401
    async with db.session() as session:
        bob_id = uuid.UUID(bob.id)
        entries = select(func.count()).where(LibraryEntry.user_id == bob_id)
        tokens = select(func.count()).where(PersonalToken.user_id == bob_id)
        assert await session.scalar(entries) == 0
        assert await session.scalar(tokens) == 0
    names = [
        u["username"] for u in (await client.get("/api/v1/users", headers=alice.headers)).json()
    ]
    assert names == ["alice"]


async def test_unknown_user_is_404(client: httpx.AsyncClient, users: UserFactory) -> None:
    alice = await users.alice()
    missing = uuid.uuid4()
    assert (
        await client.patch(
            f"/api/v1/users/{missing}", json={"is_active": False}, headers=alice.headers
        )
    ).status_code == 404
    assert (
        await client.delete(f"/api/v1/users/{missing}", headers=alice.headers)
    ).status_code == 404


async def test_registration_switch_overrides_the_environment_default(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    assert (await client.get("/api/v1/registration")).json() == {"enabled": True}
    off = await client.put("/api/v1/registration", json={"enabled": False}, headers=alice.headers)
    assert off.json() == {"enabled": False}
    refused = await client.post("/api/v1/auth/register", json=creds("dave"))
    assert refused.status_code == 403
    await client.put("/api/v1/registration", json={"enabled": True}, headers=alice.headers)
    assert (await client.post("/api/v1/auth/register", json=creds("dave"))).status_code == 201


async def test_an_invitation_lets_one_person_in_while_registration_is_off(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    await client.put("/api/v1/registration", json={"enabled": False}, headers=alice.headers)
    made = await client.post(
        "/api/v1/invitations", json={"days": 2, "note": "for dave"}, headers=alice.headers
    )
    assert made.status_code == 201
    code = made.json()["code"]
    assert f"invitation={code}" in made.json()["url"]
    first = await client.post("/api/v1/auth/register", json=creds("dave", invitation=code))
    assert first.status_code == 201
    assert first.json()["is_superuser"] is False
    again = await client.post("/api/v1/auth/register", json=creds("erin", invitation=code))
    assert again.status_code == 403
    listed = (await client.get("/api/v1/invitations", headers=alice.headers)).json()
    assert listed[0]["used_by"] == first.json()["id"]
    assert "code" not in listed[0]


async def test_a_refused_registration_does_not_spend_the_invitation(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    await users.bob()
    await client.put("/api/v1/registration", json={"enabled": False}, headers=alice.headers)
    code = (await client.post("/api/v1/invitations", json={}, headers=alice.headers)).json()["code"]
    clash = await client.post("/api/v1/auth/register", json=creds("bob", invitation=code))
    assert clash.status_code == 409
    assert (
        await client.post("/api/v1/auth/register", json=creds("dave", invitation=code))
    ).status_code == 201


async def test_one_invitation_used_twice_at_once_admits_one(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    await client.put("/api/v1/registration", json={"enabled": False}, headers=alice.headers)
    code = (await client.post("/api/v1/invitations", json={}, headers=alice.headers)).json()["code"]
    results = await asyncio.gather(
        client.post("/api/v1/auth/register", json=creds("dave", invitation=code)),
        client.post("/api/v1/auth/register", json=creds("erin", invitation=code)),
    )
    assert sorted(r.status_code for r in results) == [201, 403]


@pytest.mark.parametrize("code", ["", "made-up", "x" * 200])
async def test_unknown_or_revoked_invitations_are_refused(
    client: httpx.AsyncClient, users: UserFactory, code: str
) -> None:
    alice = await users.alice()
    await client.put("/api/v1/registration", json={"enabled": False}, headers=alice.headers)
    made = (await client.post("/api/v1/invitations", json={}, headers=alice.headers)).json()
    assert (
        await client.delete(f"/api/v1/invitations/{made['id']}", headers=alice.headers)
    ).status_code == 204
    for tried in (code, made["code"]):
        refused = await client.post("/api/v1/auth/register", json=creds("dave", invitation=tried))
        assert refused.status_code == 403


@pytest.mark.parametrize("days", [0, 31, "soon"])
async def test_invitation_days_are_validated(
    client: httpx.AsyncClient, users: UserFactory, days: object
) -> None:
    alice = await users.alice()
    refused = await client.post("/api/v1/invitations", json={"days": days}, headers=alice.headers)
    assert refused.status_code == 422
    assert (await client.get("/api/v1/invitations", headers=alice.headers)).json() == []
