"""Registration, login, tokens and the login throttle, through the HTTP stack."""

from __future__ import annotations

import httpx
import pytest

from kurobara.app import create_app
from kurobara.config import Settings
from tests.factories import PASSWORD, UserFactory


def creds(
    username: str = "bob", password: str = PASSWORD, email: str | None = None
) -> dict[str, str]:
    return {"username": username, "email": email or f"{username}@example.org", "password": password}


async def test_it_registers_and_logs_in(client: httpx.AsyncClient, users: UserFactory) -> None:
    bob = await users.register("bob")
    me = await client.get("/api/v1/users/me", headers=bob.headers)
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == "bob"
    assert body["provider_check_interval"] == 60
    assert "hashed_password" not in body


async def test_first_account_is_admin_and_later_ones_are_not(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    bob = await users.bob()
    assert (await client.get("/api/v1/users/me", headers=alice.headers)).json()["is_superuser"]
    assert not (await client.get("/api/v1/users/me", headers=bob.headers)).json()["is_superuser"]


@pytest.mark.parametrize(
    ("field", "payload"),
    [
        ("username", creds(username="Bob")),
        ("username", creds(username="bob", email="other@example.org")),
        ("email", creds(username="robert", email="BOB@example.org")),
    ],
)
async def test_duplicate_username_or_email_is_409(
    client: httpx.AsyncClient, field: str, payload: dict[str, str]
) -> None:
    assert (await client.post("/api/v1/auth/register", json=creds())).status_code == 201
    response = await client.post("/api/v1/auth/register", json=payload)
    assert response.status_code == 409
    assert field in response.json()["detail"]


@pytest.mark.parametrize(
    "payload",
    [
        creds(password="short"),
        creds(password="password"),
        creds(password="aaaaaaaaaaaa"),
        creds(password="bob12345", username="bob12345"),
        creds(username="no spaces allowed"),
        creds(username="ab"),
        creds(email="not-an-email"),
        {"username": "bob", "password": PASSWORD},
        {**creds(), "is_superuser": True},
    ],
)
async def test_weak_or_malformed_registration_is_422(
    client: httpx.AsyncClient, payload: dict[str, object]
) -> None:
    response = await client.post("/api/v1/auth/register", json=payload)
    assert response.status_code == 422
    count = await client.post("/api/v1/auth/register", json=creds("later"))
    assert count.json()["is_superuser"], "the refused registration must not have created a user"


@pytest.mark.parametrize(
    ("username", "password"), [("bob", "wrong-password-1"), ("nobody", PASSWORD)]
)
async def test_wrong_credentials_are_401_without_saying_which(
    client: httpx.AsyncClient, users: UserFactory, username: str, password: str
) -> None:
    await users.register("bob")
    response = await client.post(
        "/api/v1/auth/login", data={"username": username, "password": password}
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "Incorrect username or password"


async def test_repeated_failed_logins_are_throttled(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.register("bob")
    bad = {"username": "bob", "password": "wrong-password-1"}
    codes = [(await client.post("/api/v1/auth/login", data=bad)).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    blocked = await client.post(
        "/api/v1/auth/login", data={"username": "bob", "password": PASSWORD}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0


async def test_throttle_is_per_username(client: httpx.AsyncClient, users: UserFactory) -> None:
    await users.register("bob")
    await users.register("charlie")
    for _ in range(6):
        await client.post("/api/v1/auth/login", data={"username": "bob", "password": "nope-nope-1"})
    assert (await users.login("charlie")).token


@pytest.mark.parametrize(
    "header",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"},
    ],
)
async def test_me_requires_a_valid_token(client: httpx.AsyncClient, header: dict[str, str]) -> None:
    response = await client.get("/api/v1/users/me", headers=header)
    assert response.status_code == 401


async def test_changing_password_signs_out_old_tokens(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.register("bob")
    change = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "new-secret-words"},
        headers=bob.headers,
    )
    assert change.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 401
    assert (await users.login("bob", password="new-secret-words")).token


async def test_changing_password_needs_the_current_one(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.register("bob")
    change = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": "guess-guess-1", "new_password": "new-secret-words"},
        headers=bob.headers,
    )
    assert change.status_code == 400
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 200


async def test_throttle_counts_in_redis_when_configured(settings: Settings, redis_url: str) -> None:
    replicas = [create_app(settings.model_copy(update={"redis_url": redis_url})) for _ in range(2)]
    async with (
        replicas[0].router.lifespan_context(replicas[0]),
        replicas[1].router.lifespan_context(replicas[1]),
    ):
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://k.test")
            for app in replicas
        ]
        await UserFactory(clients[0]).register("bob")
        bad = {"username": "bob", "password": "wrong-password-1"}
        # Failures on two replicas add up: five spread over both, then the sixth is refused.
        for i in range(5):
            assert (await clients[i % 2].post("/api/v1/auth/login", data=bad)).status_code == 401
        assert (await clients[1].post("/api/v1/auth/login", data=bad)).status_code == 429
        for c in clients:
            await c.aclose()
