"""provider_status rows follow the registry: new providers added, names and URLs refreshed,
rows of unregistered providers kept but left out of lists and checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi import FastAPI

from kurobara.config import Settings
from kurobara.monitoring import service
from kurobara.monitoring.jobs import Monitor
from kurobara.providers.registry import ProviderRegistry
from tests.factories import UserFactory
from tests.monitoring.helpers import row
from tests.monitoring.sites import PingSite


async def resync(app: FastAPI, tmp_path: Path, entries: list[dict[str, Any]]) -> None:
    """What a restart with an edited providers file does."""
    path = tmp_path / "providers-edited.yaml"
    path.write_text(yaml.safe_dump(entries))
    settings: Settings = app.state.settings.model_copy(update={"providers_file": path})
    registry = ProviderRegistry.from_settings(settings, app.state.http)
    app.state.registry = registry
    async with app.state.db.session() as session:
        await service.sync_registry(db_session=session, registry=registry, settings=settings)


async def test_start_up_adds_a_row_per_provider(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    listed = (await client.get("/api/v1/providers/", headers=bob.headers)).json()
    assert [(p["provider_id"], p["status"]) for p in listed] == [
        ("site0", "unknown"),
        ("site1", "unknown"),
    ]


async def test_edited_definitions_refresh_names_and_urls(
    app: FastAPI, monitor: Monitor, tmp_path: Path, sites: list[PingSite]
) -> None:
    await resync(app, tmp_path, [sites[1].definition("site0", name="Renamed"),
                                 sites[1].definition("site1")])  # fmt: skip
    updated = await row(monitor.db, "site0")
    assert (updated.provider_name, updated.provider_url) == ("Renamed", sites[1].url)


async def test_unregistered_providers_are_kept_but_not_listed_or_checked(
    app: FastAPI, client: httpx.AsyncClient, users: UserFactory, monitor: Monitor,
    tmp_path: Path, sites: list[PingSite],
) -> None:  # fmt: skip
    bob = await users.bob()
    await monitor.step()
    await resync(app, tmp_path, [sites[0].definition("site0")])
    listed = (await client.get("/api/v1/providers/status", headers=bob.headers)).json()
    assert [p["provider_id"] for p in listed] == ["site0"]
    assert (await client.get("/api/v1/providers/site1", headers=bob.headers)).status_code == 404
    monitor.checker.registry = app.state.registry
    async with monitor.db.session() as session:
        await session.execute(
            service.PS.__table__.update().values(next_check_at=None)  # everything due
        )
        await session.commit()
    assert [r.provider_id for r in await monitor.step()] == ["site0"]
    await resync(app, tmp_path, [sites[0].definition("site0"), sites[1].definition("site1")])
    back = (await client.get("/api/v1/providers/site1", headers=bob.headers)).json()
    assert back["total_checks"] == 1  # its history came back with it


async def test_a_definition_interval_seeds_the_override_of_a_new_provider_only(
    app: FastAPI, monitor: Monitor, tmp_path: Path, sites: list[PingSite]
) -> None:
    await resync(app, tmp_path, [sites[0].definition("site0"),
                                 sites[1].definition("site1"),
                                 sites[0].definition("site2", check_interval=1)])  # fmt: skip
    assert (await row(monitor.db, "site2")).check_interval == 1
    # An existing row keeps the admin's choice: the definition only seeds new rows.
    await resync(app, tmp_path, [sites[0].definition("site0", check_interval=5),
                                 sites[1].definition("site1")])  # fmt: skip
    assert (await row(monitor.db, "site0")).check_interval is None
