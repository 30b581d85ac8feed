"""The first admin from the environment."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import UserFactory


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"admin_username": "root", "admin_password": "a-long-admin-secret"}


async def test_admin_from_environment_can_log_in(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    root = await users.login("root", password="a-long-admin-secret")
    me = await client.get("/api/v1/users/me", headers=root.headers)
    assert me.json()["is_superuser"] is True


async def test_registration_after_bootstrap_is_a_regular_user(users: UserFactory) -> None:
    bob = await users.register("bob")
    me = await users.client.get("/api/v1/users/me", headers=bob.headers)
    assert me.json()["is_superuser"] is False


async def test_admin_from_environment_gets_the_one_default_email(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    """Without ``KUROBARA_ADMIN_EMAIL`` the address is the one ``create-admin`` also uses,
    and one our own validation accepts (``root@localhost`` is refused: no dot in the domain)."""
    from kurobara.users.schemas import UserCreate

    root = await users.login("root", password="a-long-admin-secret")
    email = (await client.get("/api/v1/users/me", headers=root.headers)).json()["email"]
    assert email == "root@localhost.localdomain"
    UserCreate(username="root", email=email, password="a-long-admin-secret")
