"""The authenticated user is cached briefly (users/cache.py): a request answered from the cache
reads no user row, and every change that must end a token's use ends it at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from kurobara.db.engine import Database
from tests.factories import PASSWORD, MangaFactory, UserFactory


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def test_a_cached_request_reads_no_user_row(
    client: httpx.AsyncClient, users: UserFactory, db: Database
) -> None:
    bob = await users.bob()
    book = await MangaFactory(db).create()
    path = f"/api/v1/favorites/{book.id}/status"
    assert (await client.get(path, headers=bob.headers)).status_code == 200
    with statements(db) as sent:
        answer = await client.get(path, headers=bob.headers)
    assert answer.status_code == 200
    assert answer.json() == {"manga_id": str(book.id), "is_favorite": False}
    # The status query alone: no user lookup, no ping.
    assert len(sent) == 1, sent
    assert "users" not in sent[0]


async def test_a_disabled_users_token_stops_working_at_once(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice, bob = await users.alice(), await users.bob()
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 200
    off = await client.patch(
        f"/api/v1/users/{bob.id}", json={"is_active": False}, headers=alice.headers
    )
    assert off.status_code == 200
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 401
    assert (await client.get("/api/v1/favorites/count", headers=bob.headers)).status_code == 401


async def test_a_password_change_ends_the_old_token_at_once(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 200
    changed = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "another-long-passphrase"},
        headers=bob.headers,
    )
    assert changed.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 401
    again = await users.login("bob", password="another-long-passphrase")
    assert (await client.get("/api/v1/users/me", headers=again.headers)).status_code == 200


async def test_an_admin_reset_and_a_deletion_end_the_token_at_once(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice, bob, charlie = await users.alice(), await users.bob(), await users.charlie()
    for persona in (bob, charlie):
        assert (await client.get("/api/v1/users/me", headers=persona.headers)).status_code == 200
    reset = await client.post(
        f"/api/v1/users/{bob.id}/password",
        json={"new_password": "a-brand-new-passphrase"},
        headers=alice.headers,
    )
    assert reset.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 401
    gone = await client.delete(f"/api/v1/users/{charlie.id}", headers=alice.headers)
    assert gone.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=charlie.headers)).status_code == 401


async def test_a_change_made_through_the_cached_user_is_written(
    client: httpx.AsyncClient, users: UserFactory, db: Database
) -> None:
    """The cached user is attached to the request's session: a route changing it writes."""
    bob = await users.bob()
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 200
    changed = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "a-third-long-passphrase"},
        headers=bob.headers,
    )
    assert changed.status_code == 204
    await users.login("bob", password="a-third-long-passphrase")
