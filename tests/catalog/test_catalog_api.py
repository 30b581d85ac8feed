"""``/api/v1/catalog`` through the HTTP stack on SQLite and PostgreSQL: browse with filters and
paging, enable (the provider joins the registry and the Providers list), disable, refusals."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from kurobara.app import create_app
from kurobara.catalog.service import bundled_definitions
from kurobara.config import Settings
from kurobara.monitoring.models import ProviderStatus
from tests.factories import UserFactory, write_providers_file

FIVE = [d.id for d in bundled_definitions() if d.kind == "madara"][:5]


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict[str, object]:
    # One provider of the configuration shares its id with a bundled entry.
    configured = bundled_definitions()[-1]
    path = write_providers_file(
        tmp_path / "providers.yaml",
        [{"id": configured.id, "name": "Mine", "kind": "madara", "url": "https://mine.invalid"}],
    )
    return {"providers_file": path}


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: object) -> dict:
    response = await client.get("/api/v1/catalog/", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_it_lists_the_bundled_catalog_with_paging(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    first = await listed(client, bob.headers, limit=10)
    second = await listed(client, bob.headers, limit=10, page=2)
    assert first["total"] == len(bundled_definitions())
    assert len(first["items"]) == 10
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})
    assert {"madara", "mangathemesia"} <= set(first["kinds"])
    assert first["bundled"] is True
    assert all(i["state"] == "available" for i in first["items"])


async def test_it_filters_by_language_kind_nsfw_and_name(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    found = await listed(
        client, bob.headers, language="es", kind="mangathemesia", nsfw="false", limit=200
    )
    expected = [
        d.id for d in bundled_definitions()
        if d.language == "es" and d.kind == "mangathemesia" and not d.nsfw
    ]  # fmt: skip
    assert [i["id"] for i in found["items"]] == expected
    assert found["total"] == len(expected) > 0
    name = bundled_definitions()[3].name
    by_name = await listed(client, bob.headers, q=name.upper()[:6])
    assert bundled_definitions()[3].id in [i["id"] for i in by_name["items"]]


async def test_an_entry_of_the_configuration_is_shown_as_configured_and_cannot_be_enabled(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    configured = bundled_definitions()[-1].id
    found = await listed(client, alice.headers, state="configured")
    assert [i["id"] for i in found["items"]] == [configured]
    response = await client.post(f"/api/v1/catalog/{configured}/enable", headers=alice.headers)
    assert response.status_code == 409
    assert "configuration" in response.json()["detail"]


async def test_enabling_five_entries_makes_them_providers(
    client: httpx.AsyncClient, users: UserFactory, app: FastAPI
) -> None:
    alice = await users.alice()
    for entry_id in FIVE:
        response = await client.post(f"/api/v1/catalog/{entry_id}/enable", headers=alice.headers)
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "enabled"
    providers = await client.get("/api/v1/providers/", headers=alice.headers)
    ids = [p["provider_id"] for p in providers.json()]
    assert set(FIVE) <= set(ids)
    assert all(app.state.registry.get(pid).definition.enabled for pid in FIVE)
    found = await listed(client, alice.headers, state="enabled")
    assert sorted(i["id"] for i in found["items"]) == sorted(FIVE)


async def test_enabling_twice_is_one_provider(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    for _ in range(2):
        response = await client.post(f"/api/v1/catalog/{FIVE[0]}/enable", headers=alice.headers)
        assert response.status_code == 200
    providers = await client.get("/api/v1/providers/", headers=alice.headers)
    assert [p["provider_id"] for p in providers.json()].count(FIVE[0]) == 1


async def test_disabling_takes_the_provider_away_and_stops_its_checks(
    client: httpx.AsyncClient, users: UserFactory, app: FastAPI
) -> None:
    alice = await users.alice()
    await client.post(f"/api/v1/catalog/{FIVE[0]}/enable", headers=alice.headers)
    response = await client.post(f"/api/v1/catalog/{FIVE[0]}/disable", headers=alice.headers)
    assert response.status_code == 200
    assert response.json()["state"] == "available"
    providers = await client.get("/api/v1/providers/", headers=alice.headers)
    assert FIVE[0] not in [p["provider_id"] for p in providers.json()]
    assert FIVE[0] not in app.state.registry
    async with app.state.db.session() as session:
        row = await session.scalar(
            select(ProviderStatus).where(ProviderStatus.provider_id == FIVE[0])
        )
    assert row is not None
    assert row.is_enabled is False
    again = await client.post(f"/api/v1/catalog/{FIVE[0]}/disable", headers=alice.headers)
    assert again.status_code == 200


async def test_users_may_browse_but_not_enable_or_disable(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    for action in ("enable", "disable"):
        response = await client.post(f"/api/v1/catalog/{FIVE[0]}/{action}", headers=bob.headers)
        assert response.status_code == 403
    refresh = await client.post("/api/v1/catalog/refresh", headers=bob.headers)
    assert refresh.status_code == 403
    anonymous = await client.get("/api/v1/catalog/")
    assert anonymous.status_code == 401


@pytest.mark.parametrize("entry_id", ["no-such-site", "UPPER", "a" * 150])
async def test_an_unknown_entry_is_a_404(
    client: httpx.AsyncClient, users: UserFactory, entry_id: str
) -> None:
    alice = await users.alice()
    response = await client.post(f"/api/v1/catalog/{entry_id}/enable", headers=alice.headers)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "params",
    [{"kind": "wordpress"}, {"limit": 0}, {"limit": 500}, {"page": 0}, {"nsfw": "maybe"},
     {"language": "x"}, {"state": "broken"}],
)  # fmt: skip
async def test_bad_filters_are_422s(
    client: httpx.AsyncClient, users: UserFactory, params: dict[str, object]
) -> None:
    bob = await users.bob()
    response = await client.get("/api/v1/catalog/", params=params, headers=bob.headers)
    assert response.status_code == 422


async def test_an_enabled_entry_is_a_provider_after_a_restart_and_on_another_replica(
    client: httpx.AsyncClient, users: UserFactory, app: FastAPI, settings: Settings
) -> None:
    alice = await users.alice()
    await client.post(f"/api/v1/catalog/{FIVE[1]}/enable", headers=alice.headers)
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        assert FIVE[1] in other.state.registry  # loaded at start-up
        # The test drives the other replica's syncs: its job's first step, run in the
        # background, could otherwise be the sync that sees the disable.
        await other.state.catalog.stop()
        await client.post(f"/api/v1/catalog/{FIVE[1]}/disable", headers=alice.headers)
        synced = await other.state.catalog.sync()
        assert synced.removed == [FIVE[1]]
        assert FIVE[1] not in other.state.registry
        await client.post(f"/api/v1/catalog/{FIVE[2]}/enable", headers=alice.headers)
        synced = await other.state.catalog.sync()
        assert synced.added == [FIVE[2]]
        assert other.state.registry.get(FIVE[2]).name == app.state.registry.get(FIVE[2]).name
