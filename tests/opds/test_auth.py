"""Who may read the catalog: HTTP Basic with the password or a personal access token as the
password, a Bearer token, or the UI's session; a 401 that makes an app ask; a disabled user
or a revoked token locked out at once, even while a verified password is remembered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from kurobara.opds.auth import CredentialCache
from tests.factories import PASSWORD, Persona
from tests.opds.client import basic


async def make_token(
    client: httpx.AsyncClient, who: Persona, scope: str = "read"
) -> dict[str, str]:
    response = await client.post(
        "/api/v1/tokens", json={"name": "e-reader", "scope": scope}, headers=who.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


async def test_no_credentials_is_a_401_asking_for_basic(client: httpx.AsyncClient) -> None:
    response = await client.get("/opds")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic realm=")


async def test_a_wrong_password_is_a_401(client: httpx.AsyncClient, alice: Persona) -> None:
    response = await client.get("/opds", headers=basic(alice.username, "not-the-password"))
    assert response.status_code == 401


async def test_malformed_basic_is_a_401_not_a_500(client: httpx.AsyncClient) -> None:
    for value in ("Basic !!!", "Basic " + "bm9jb2xvbg==", "Digest x", "Basic"):
        response = await client.get("/opds", headers={"Authorization": value})
        assert response.status_code == 401, value


async def test_the_password_and_tokens_all_open_the_catalog(
    client: httpx.AsyncClient, alice: Persona
) -> None:
    token = (await make_token(client, alice))["token"]
    for headers in (
        basic(alice.username, PASSWORD),
        basic(alice.username.upper(), PASSWORD),
        basic(alice.username, token),
        {"Authorization": f"Bearer {token}"},
        alice.headers,  # the API's JWT
    ):
        response = await client.get("/opds", headers=headers)
        assert response.status_code == 200, (headers, response.text)
        assert (
            f"{alice.username}&apos;s library" in response.text or alice.username in response.text
        )


async def test_a_token_under_another_username_is_refused(
    client: httpx.AsyncClient, alice: Persona, bob: Persona
) -> None:
    token = (await make_token(client, alice))["token"]
    response = await client.get("/opds", headers=basic(bob.username, token))
    assert response.status_code == 401


async def test_a_revoked_token_stops_at_once(client: httpx.AsyncClient, alice: Persona) -> None:
    made = await make_token(client, alice)
    headers = basic(alice.username, made["token"])
    assert (await client.get("/opds", headers=headers)).status_code == 200
    gone = await client.delete(f"/api/v1/tokens/{made['id']}", headers=alice.headers)
    assert gone.status_code == 204
    assert (await client.get("/opds", headers=headers)).status_code == 401


async def test_a_disabled_user_is_locked_out_though_the_password_was_remembered(
    client: httpx.AsyncClient, alice: Persona, bob: Persona
) -> None:
    headers = basic(bob.username, PASSWORD)
    assert (await client.get("/opds", headers=headers)).status_code == 200
    off = await client.patch(
        f"/api/v1/users/{bob.id}", json={"is_active": False}, headers=alice.headers
    )
    assert off.status_code == 200, off.text
    assert (await client.get("/opds", headers=headers)).status_code == 401


async def test_a_changed_password_is_not_taken_from_memory(
    client: httpx.AsyncClient, bob: Persona
) -> None:
    old = basic(bob.username, PASSWORD)
    assert (await client.get("/opds", headers=old)).status_code == 200
    changed = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "a-new-long-password"},
        headers=bob.headers,
    )
    assert changed.status_code == 204, changed.text
    assert (await client.get("/opds", headers=old)).status_code == 401
    new = basic(bob.username, "a-new-long-password")
    assert (await client.get("/opds", headers=new)).status_code == 200


@dataclass
class Account:
    """The two fields of a user the cache keeps."""

    id: uuid.UUID
    hashed_password: str


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_remembered_credential_expires_and_the_cache_stays_bounded() -> None:
    ticks = Ticks()
    cache = CredentialCache(ttl_seconds=60, size=2, clock=ticks)

    keys = [cache.key("secret", f"user{n}", "pw") for n in range(3)]
    for n, key in enumerate(keys):
        cache.put(key, Account(uuid.UUID(int=n), f"hash-{n}"))  # type: ignore[arg-type]
    assert cache.get(keys[0]) is None  # the oldest went when the third came
    assert cache.get(keys[2]) is not None
    ticks.now = 61
    assert cache.get(keys[2]) is None


def test_the_cache_key_is_keyed_and_case_blind_in_the_username() -> None:
    assert CredentialCache.key("s", "Bob", "pw") == CredentialCache.key("s", "bob", "pw")
    assert CredentialCache.key("s", "bob", "pw") != CredentialCache.key("t", "bob", "pw")
    assert CredentialCache.key("s", "bob", "pw") != CredentialCache.key("s", "bob", "PW")
