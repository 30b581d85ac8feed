"""Fixtures of the reading tests: one fake MangaDex site per module (its feeds restored after
each test, so chapters added or removed do not leak), the personas, and helpers that import a
manga and read its chapter list through the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from tests.factories import Persona, UserFactory, write_providers_file

# Generous: no test here waits one out, and on a loaded machine an answer can take seconds.
TIMEOUT = 15.0


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMangaDexSite]:
    with FakeMangaDexSite(name="md", slow_seconds=5) as running:
        yield running


@pytest.fixture(autouse=True)
def healthy_site(site: FakeMangaDexSite) -> Iterator[None]:
    # The feed is what the site lists: restoring it undoes chapters a test added or removed.
    feeds = {key: list(items) for key, items in site.feeds.items()}
    yield
    site.set_fault("ok")
    site.feeds.clear()
    site.feeds.update(feeds)


@pytest.fixture
def settings_overrides(site: FakeMangaDexSite, tmp_path: Path) -> dict[str, object]:
    definitions = [site.definition(), site.definition("md-off", enabled=False)]
    return {
        "providers_file": write_providers_file(tmp_path / "providers.yaml", definitions),
        "check_timeout": TIMEOUT,
    }


@pytest.fixture
async def alice(users: UserFactory) -> Persona:
    return await users.alice()


@pytest.fixture
async def bob(users: UserFactory) -> Persona:
    return await users.bob()


async def import_manga(
    client: httpx.AsyncClient, who: Persona, external_id: str, provider_id: str = "md"
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/manga/import",
        json={"provider_id": provider_id, "external_id": external_id},
        headers=who.headers,
    )
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def chapters_of(client: httpx.AsyncClient, who: Persona, manga_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/manga/{manga_id}/chapters", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class MovableClock:
    """The app's clock, moved by the test: a stored chapter list gets old without sleeping."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock(app: Any) -> MovableClock:
    movable = MovableClock()
    app.state.clock = movable
    return movable
