"""/categories: create, list, rename, reorder, delete; entries on them through the library API;
each user sees and changes only their own."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.factories import MangaFactory, Persona, UserFactory

CAT = "/api/v1/categories"
LIB = "/api/v1/library"


async def _create(client: httpx.AsyncClient, who: Persona, name: str) -> str:
    response = await client.post(f"{CAT}/", json={"name": name}, headers=who.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _names(client: httpx.AsyncClient, who: Persona) -> list[str]:
    listed = (await client.get(f"{CAT}/", headers=who.headers)).json()
    return [c["name"] for c in listed]


async def test_it_creates_a_category_and_returns_it_with_its_id(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    created = await client.post(f"{CAT}/", json={"name": "  To  read "}, headers=bob.headers)
    assert created.status_code == 201
    body = created.json()
    assert uuid.UUID(body["id"])
    assert (body["name"], body["position"], body["entry_count"]) == ("To read", 0, 0)
    assert await _names(client, bob) == ["To read"]


async def test_new_categories_go_last_and_a_move_shifts_the_others(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    ids = [await _create(client, bob, name) for name in ("A", "B", "C")]
    moved = await client.patch(f"{CAT}/{ids[2]}", json={"position": 0}, headers=bob.headers)
    assert moved.json()["position"] == 0
    assert await _names(client, bob) == ["C", "A", "B"]
    await client.patch(f"{CAT}/{ids[2]}", json={"position": 99}, headers=bob.headers)
    listed = (await client.get(f"{CAT}/", headers=bob.headers)).json()
    assert [(c["name"], c["position"]) for c in listed] == [("A", 0), ("B", 1), ("C", 2)]


async def test_it_renames_and_refuses_a_name_already_taken(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    first = await _create(client, bob, "Reading")
    await _create(client, bob, "Done")
    renamed = await client.patch(f"{CAT}/{first}", json={"name": "Now"}, headers=bob.headers)
    assert renamed.json()["name"] == "Now"
    taken = await client.patch(f"{CAT}/{first}", json={"name": "Done"}, headers=bob.headers)
    assert taken.status_code == 409
    again = await client.post(f"{CAT}/", json={"name": "Done"}, headers=bob.headers)
    assert again.status_code == 409
    assert await _names(client, bob) == ["Now", "Done"]


async def test_deleting_a_category_keeps_its_entries_and_closes_the_gap(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    a, b = await _create(client, bob, "A"), await _create(client, bob, "B")
    m = await manga.create()
    await client.post(f"{LIB}/{m.id}", json={"category_ids": [a, b]}, headers=bob.headers)
    assert (await client.delete(f"{CAT}/{a}", headers=bob.headers)).status_code == 204
    entry = (await client.get(f"{LIB}/{m.id}", headers=bob.headers)).json()
    assert [c["name"] for c in entry["categories"]] == ["B"]
    listed = (await client.get(f"{CAT}/", headers=bob.headers)).json()
    assert [(c["name"], c["position"], c["entry_count"]) for c in listed] == [("B", 0, 1)]
    assert (await client.delete(f"{CAT}/{a}", headers=bob.headers)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": "a\x00b"},
        {"name": "two\nlines"},
        {"name": 5},
        {},
        {"name": "ok", "extra": 1},
    ],
)
async def test_bad_names_are_a_422_and_create_nothing(
    client: httpx.AsyncClient, users: UserFactory, body: dict[str, object]
) -> None:
    bob = await users.bob()
    response = await client.post(f"{CAT}/", json=body, headers=bob.headers)
    assert response.status_code == 422
    assert await _names(client, bob) == []


async def test_an_entry_can_be_on_several_categories_and_the_library_filters_by_one(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    a, b = await _create(client, bob, "A"), await _create(client, bob, "B")
    m1, m2, m3 = await manga.create("One"), await manga.create("Two"), await manga.create("Three")
    await client.post(f"{LIB}/{m1.id}", json={"category_ids": [a, b]}, headers=bob.headers)
    await client.post(f"{LIB}/{m2.id}", json={"category_ids": [b]}, headers=bob.headers)
    await client.post(f"{LIB}/{m3.id}", headers=bob.headers)

    on_b = await client.get(f"{LIB}/", params={"category_id": b}, headers=bob.headers)
    assert on_b.headers["X-Total-Count"] == "2"
    assert {e["manga"]["title"] for e in on_b.json()} == {"One", "Two"}
    on_a = await client.get(f"{LIB}/", params={"category_id": a}, headers=bob.headers)
    assert [e["manga"]["title"] for e in on_a.json()] == ["One"]
    assert [c["name"] for c in on_a.json()[0]["categories"]] == ["A", "B"]

    # PATCH puts the entry on exactly the categories sent; [] takes it off all of them.
    await client.patch(f"{LIB}/{m1.id}", json={"category_ids": []}, headers=bob.headers)
    on_a = await client.get(f"{LIB}/", params={"category_id": a}, headers=bob.headers)
    assert on_a.json() == []
    assert on_a.headers["X-Total-Count"] == "0"


async def test_bulk_move_add_and_remove(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    a, b = await _create(client, bob, "A"), await _create(client, bob, "B")
    ms = [await manga.create() for _ in range(3)]
    ids = [str(m.id) for m in ms]
    for mid in ids:
        await client.post(f"{LIB}/{mid}", json={"category_ids": [a]}, headers=bob.headers)

    moved = await client.patch(
        f"{LIB}/bulk", json={"manga_ids": ids[:2], "category_ids": [b]}, headers=bob.headers
    )
    assert moved.status_code == 200
    assert moved.json()["updated"] == 2
    added = {"manga_ids": ids[2:], "category_ids": [b], "mode": "add"}
    await client.patch(f"{LIB}/bulk", json=added, headers=bob.headers)
    removed = {"manga_ids": ids, "category_ids": [a], "mode": "remove"}
    await client.patch(f"{LIB}/bulk", json=removed, headers=bob.headers)

    listed = (await client.get(f"{CAT}/", headers=bob.headers)).json()
    assert [(c["name"], c["entry_count"]) for c in listed] == [("A", 0), ("B", 3)]


async def test_bulk_with_a_manga_outside_the_library_changes_nothing(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    a = await _create(client, bob, "A")
    inside, outside = await manga.create(), await manga.create()
    await client.post(f"{LIB}/{inside.id}", headers=bob.headers)
    body = {"manga_ids": [str(inside.id), str(outside.id)], "category_ids": [a]}
    response = await client.patch(f"{LIB}/bulk", json=body, headers=bob.headers)
    assert response.status_code == 404
    assert str(outside.id) in response.json()["detail"]
    assert (await client.get(f"{CAT}/", headers=bob.headers)).json()[0]["entry_count"] == 0


async def test_bob_can_neither_see_nor_use_nor_change_alices_categories(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    alice, bob = await users.alice(), await users.bob()
    hers = await _create(client, alice, "Alice's")
    m = await manga.create()
    await client.post(f"{LIB}/{m.id}", json={"category_ids": [hers]}, headers=alice.headers)

    assert (await client.get(f"{CAT}/", headers=bob.headers)).json() == []
    rename = await client.patch(f"{CAT}/{hers}", json={"name": "Bob's"}, headers=bob.headers)
    assert rename.status_code == 404
    assert (await client.delete(f"{CAT}/{hers}", headers=bob.headers)).status_code == 404
    use = await client.post(f"{LIB}/{m.id}", json={"category_ids": [hers]}, headers=bob.headers)
    assert use.status_code == 404
    assert use.json()["detail"]["unknown_category_ids"] == [hers]
    filtered = await client.get(f"{LIB}/", params={"category_id": hers}, headers=bob.headers)
    assert filtered.json() == []
    # Bob's refused add created no entry, and alice's category is untouched.
    assert (await client.get(f"{LIB}/{m.id}", headers=bob.headers)).status_code == 404
    assert await _names(client, alice) == ["Alice's"]
    assert (await client.get(f"{CAT}/", headers=alice.headers)).json()[0]["entry_count"] == 1


async def test_categories_need_a_signed_in_user(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{CAT}/")).status_code == 401
    assert (await client.post(f"{CAT}/", json={"name": "x"})).status_code == 401


async def test_has_unread_filter_counts_only_the_matching_entries(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    # The total came from the per-user counter, which knows nothing of chapters: two entries
    # with no unread chapter answered X-Total-Count 2 for has_unread=true.
    bob = await users.bob()
    for m in (await manga.create(), await manga.create()):
        await client.post(f"{LIB}/{m.id}", headers=bob.headers)
    unread = await client.get(f"{LIB}/", params={"has_unread": "true"}, headers=bob.headers)
    assert unread.json() == []
    assert unread.headers["X-Total-Count"] == "0"
