"""Test data through the public API: personas alice (admin), bob and charlie (regular users)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import select

from kurobara.db.engine import Database
from kurobara.manga.models import Manga, MangaSource
from kurobara.users import admin as user_admin
from kurobara.users import security
from kurobara.users import service as user_service
from kurobara.users.models import User
from kurobara.users.schemas import UserCreate
from kurobara.users.security import create_access_token

PASSWORD = "correct-horse-battery"

# A real argon2 hash of each persona password at each cost, made once per process: personas
# share it (salt included), so that only the tests of hashing and login pay for argon2.
_HASHES: dict[tuple[str, int, int, int], str] = {}


@contextlib.asynccontextmanager
async def _hashed_once() -> AsyncIterator[None]:
    real = user_service.hash_password

    async def once(password: str) -> str:
        hasher = security._hasher
        key = (password, hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        if key not in _HASHES:
            _HASHES[key] = await real(password)
        return _HASHES[key]

    user_service.hash_password = once
    try:
        yield
    finally:
        user_service.hash_password = real


@dataclass
class Persona:
    username: str
    token: str
    id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class UserFactory:
    """Accounts registered through the API. With the ``app`` they run in, a new account's token
    is minted as ``/auth/login`` mints it (from the stored password hash, with the app's key),
    without verifying the password again: argon2 is most of what a persona costs, and login has
    tests of its own. ``login`` always goes through the API."""

    client: httpx.AsyncClient
    app: Any = None
    made: dict[str, Persona] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)

    async def register(self, username: str, *, password: str = PASSWORD) -> Persona:
        await self._create_account(username, password)
        return await self._signed_in(username, password)

    async def _create_account(self, username: str, password: str) -> None:
        payload = UserCreate(username=username, email=f"{username}@example.org", password=password)
        if self.app is None:
            response = await self.client.post(
                "/api/v1/auth/register", json=payload.model_dump(mode="json", exclude_none=True)
            )
            assert response.status_code == 201, response.text
            self.accounts[username] = response.json()["id"]
            return
        async with self.app.state.db.session() as session, _hashed_once():
            user = await user_admin.register(
                db_session=session,
                payload=payload,
                default_open=self.app.state.settings.registration_enabled,
            )
            self.accounts[username] = str(user.id)

    async def _signed_in(self, username: str, password: str) -> Persona:
        if self.app is None:
            return await self.login(username, password=password)
        user_id = uuid.UUID(self.accounts[username])
        async with self.app.state.db.session() as session:
            hashed = await session.scalar(select(User.hashed_password).where(User.id == user_id))
        token = create_access_token(
            user_id=user_id,
            hashed_password=hashed,
            secret=self.app.state.secret_key,
            minutes=self.app.state.settings.access_token_minutes,
        )
        persona = Persona(username=username, token=token, id=str(user_id))
        self.made[username] = persona
        return persona

    async def login(self, username: str, *, password: str = PASSWORD) -> Persona:
        response = await self.client.post(
            "/api/v1/auth/login", data={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        me = await self.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        persona = Persona(username=username, token=token, id=me.json()["id"])
        self.made[username] = persona
        return persona

    async def alice(self) -> Persona:
        """The admin: the first account of an instance is its superuser."""
        if "alice" in self.made:
            return self.made["alice"]
        if "alice" in self.accounts:
            return await self._signed_in("alice", PASSWORD)
        return await self.register("alice")

    async def _admin_first(self) -> None:
        # bob and charlie must not be the first account; alice's account is enough (a login
        # costs a password hash, so she logs in only when a test asks for her).
        if "alice" not in self.accounts:
            await self._create_account("alice", PASSWORD)

    async def bob(self) -> Persona:
        await self._admin_first()
        return self.made.get("bob") or await self.register("bob")

    async def charlie(self) -> Persona:
        await self._admin_first()
        return self.made.get("charlie") or await self.register("charlie")


@dataclass
class MangaFactory:
    """Catalog rows inserted straight into the database, for tests that need manga to exist
    without going through a provider import."""

    db: Database
    made: int = 0

    async def create(
        self, title: str | None = None, *, sources: Sequence[tuple[str, str]] = (), **fields: Any
    ) -> Manga:
        self.made += 1
        title = title or f"Manga {self.made:05d}"
        manga = Manga(title=title, title_key=title.lower(), **fields)
        manga.sources = [MangaSource(provider_id=p, external_id=e) for p, e in sources]
        async with self.db.session() as session:
            session.add(manga)
            await session.commit()
        return manga

    async def create_many(self, count: int) -> list[Manga]:
        return [await self.create() for _ in range(count)]


def write_providers_file(path: Path, definitions: Sequence[dict[str, Any]]) -> Path:
    """A ``KUROBARA_PROVIDERS_FILE`` (YAML) holding these definitions, e.g. of fake sites."""
    path.write_text(yaml.safe_dump({"providers": list(definitions)}, sort_keys=False))
    return path
