"""Every endpoint is scoped to the current user: bob never reads or changes alice's entries."""

from __future__ import annotations

import httpx

from tests.factories import MangaFactory, UserFactory

LIB = "/api/v1/library"
FAV = "/api/v1/favorites"


async def test_a_second_user_can_neither_see_nor_change_the_first_users_entries(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    alice, bob = await users.alice(), await users.bob()
    m = await manga.create("Shared Title")
    mid = str(m.id)
    body = {"is_favorite": True, "rating": 5, "notes": "alice's", "custom_title": "A"}
    original = (await client.post(f"{LIB}/{mid}", json=body, headers=alice.headers)).json()

    # Reads: nothing of alice's shows through bob's eyes.
    assert (await client.get(f"{LIB}/", headers=bob.headers)).json() == []
    assert (await client.get(f"{FAV}/", headers=bob.headers)).json() == []
    assert (await client.get(f"{FAV}/?search=shared", headers=bob.headers)).json() == []
    assert (await client.get(f"{FAV}/count", headers=bob.headers)).json() == {"count": 0}
    assert (await client.get(f"{LIB}/{mid}", headers=bob.headers)).status_code == 404
    status = await client.get(f"{FAV}/{mid}/status", headers=bob.headers)
    assert status.json()["is_favorite"] is False
    export = await client.get(f"{FAV}/export", headers=bob.headers)
    assert export.json()["items"] == []

    # Writes: bob's requests touch only bob's own (possibly new) entry.
    assert (
        await client.patch(f"{LIB}/{mid}", json={"notes": "x"}, headers=bob.headers)
    ).status_code == 404
    await client.delete(f"{FAV}/{mid}", headers=bob.headers)
    await client.patch(
        f"{FAV}/bulk", json={"manga_ids": [mid], "is_favorite": False}, headers=bob.headers
    )
    await client.delete(f"{LIB}/{mid}", headers=bob.headers)
    await client.post(f"{FAV}/{mid}", headers=bob.headers)
    await client.patch(f"{LIB}/{mid}", json={"notes": "bob's", "rating": 1}, headers=bob.headers)

    after = (await client.get(f"{LIB}/{mid}", headers=alice.headers)).json()
    assert after == original
    bobs = (await client.get(f"{LIB}/{mid}", headers=bob.headers)).json()
    assert bobs["id"] != original["id"]
    assert bobs["user_id"] == bob.id
    assert (await client.get(f"{FAV}/count", headers=alice.headers)).json() == {"count": 1}
