"""The argon2id cost as a setting: a floor at OWASP's minimum, old hashes still verify, and a
login re-hashes a password stored at a lower cost than the configured one."""

from __future__ import annotations

import httpx
import pytest
from argon2 import PasswordHasher, extract_parameters
from pydantic import ValidationError

from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.users import service as user_service
from tests.conftest import PASSWORD_HASHING_ENV
from tests.factories import PASSWORD, UserFactory

# What the tests configure (tests/conftest.py): OWASP's minimum.
CONFIGURED = (2, 19 * 1024, 1)


def costs(hashed: str) -> tuple[int, int, int]:
    parameters = extract_parameters(hashed)
    return parameters.time_cost, parameters.memory_cost, parameters.parallelism


async def stored_hash(db: Database, username: str) -> str:
    async with db.session() as session:
        user = await user_service.get_by_username(db_session=session, username=username)
        assert user is not None
        return user.hashed_password


async def store_hash(db: Database, username: str, hashed: str) -> None:
    async with db.session() as session:
        user = await user_service.get_by_username(db_session=session, username=username)
        assert user is not None
        user.hashed_password = hashed
        await session.commit()


def test_the_default_cost_is_argon2_cffis(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in PASSWORD_HASHING_ENV:
        monkeypatch.delenv(key)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    default = PasswordHasher()
    assert settings.password_hash_time_cost == default.time_cost == 3
    assert settings.password_hash_memory_kib == default.memory_cost == 64 * 1024
    assert settings.password_hash_parallelism == default.parallelism == 4


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password_hash_time_cost", 1),
        ("password_hash_memory_kib", 19 * 1024 - 1),
        ("password_hash_parallelism", 0),
    ],
)
def test_a_cost_below_owasps_minimum_is_refused(field: str, value: int) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(_env_file=None, **{field: value})  # type: ignore[call-arg]


async def test_new_passwords_are_hashed_at_the_configured_cost(
    db: Database, users: UserFactory
) -> None:
    await users.register("bob")
    assert costs(await stored_hash(db, "bob")) == CONFIGURED


async def test_a_hash_made_at_a_higher_cost_still_logs_in_and_is_kept(
    client: httpx.AsyncClient, db: Database, users: UserFactory
) -> None:
    await users.register("bob")
    stronger = PasswordHasher(time_cost=3, memory_cost=32 * 1024, parallelism=2).hash(PASSWORD)
    await store_hash(db, "bob", stronger)
    again = await users.login("bob")
    assert await stored_hash(db, "bob") == stronger
    assert (await client.get("/api/v1/users/me", headers=again.headers)).status_code == 200


async def test_a_hash_made_at_a_lower_cost_is_rehashed_at_login(
    client: httpx.AsyncClient, db: Database, users: UserFactory
) -> None:
    await users.register("bob")
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    await store_hash(db, "bob", weaker)
    bob = await users.login("bob")
    assert costs(await stored_hash(db, "bob")) == CONFIGURED
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 200
    assert await users.login("bob")


async def test_a_wrong_password_does_not_rehash(
    client: httpx.AsyncClient, db: Database, users: UserFactory
) -> None:
    await users.register("bob")
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    await store_hash(db, "bob", weaker)
    response = await client.post(
        "/api/v1/auth/login", data={"username": "bob", "password": "not-the-password"}
    )
    assert response.status_code == 401
    assert await stored_hash(db, "bob") == weaker
