"""A health probe through the whole app: a fake Madara site whose chapter list breaks (switched
on its hub) turns `down` with stage `chapters`, shown by ``/api/v1/providers/status``, the
check history and the Providers page; the site's recovery clears the stage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kurobara.providers.fakes.hub import FakeSiteHub
from kurobara.providers.fakes.madara import FakeMadaraSite
from tests.conftest import TLS
from tests.factories import Persona, UserFactory, write_providers_file
from tests.web.helpers import web_login

PROVIDER = "probed-madara"


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeSiteHub]:
    panel = FakeSiteHub([FakeMadaraSite(name=PROVIDER, slow_seconds=5)]).start()
    yield panel
    panel.stop()


@pytest.fixture(autouse=True)
def default_variants(hub: FakeSiteHub) -> Iterator[None]:
    yield
    for site in hub.sites.values():
        for name, values in site.VARIANTS.items():
            site.set_variant(name, values[0])


@pytest.fixture
def settings_overrides(hub: FakeSiteHub, tmp_path: Path) -> dict[str, object]:
    health = {"keyword": "page-item-detail", "probe": {"query": "a"}}
    definitions = [hub.sites[PROVIDER].definition(health=health)]
    return {
        "providers_file": write_providers_file(tmp_path / "providers.yaml", definitions),
        "check_timeout": 5,
    }


async def check_now(client: httpx.AsyncClient, who: Persona) -> dict[str, object]:
    response = await client.post(f"/api/v1/providers/{PROVIDER}/test", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def status(client: httpx.AsyncClient, who: Persona) -> dict[str, object]:
    listed = await client.get("/api/v1/providers/status", headers=who.headers)
    assert listed.status_code == 200, listed.text
    [row] = [r for r in listed.json() if r["provider_id"] == PROVIDER]
    assert isinstance(row, dict)
    return row


async def test_broken_chapter_list_turns_the_provider_down_at_stage_chapters(
    client: httpx.AsyncClient, users: UserFactory, hub: FakeSiteHub
) -> None:
    alice = await users.alice()
    assert (await check_now(client, alice))["is_success"] is True
    async with httpx.AsyncClient(base_url=hub.url, verify=TLS) as panel:
        switched = await panel.post(
            f"/sites/{PROVIDER}/variant", json={"name": "chapters", "value": "broken"}
        )
    assert switched.status_code == 200, switched.text
    for _ in range(3):
        result = await check_now(client, alice)
        assert (result["is_success"], result["stage"]) == (False, "chapters")
    row = await status(client, alice)
    assert (row["status"], row["stage"], row["error_kind"], row["http_status"]) == (
        "down", "chapters", "http_status", 500,
    )  # fmt: skip
    history = await client.get(f"/api/v1/providers/{PROVIDER}/history", headers=alice.headers)
    assert [c["stage"] for c in history.json()["checks"][:3]] == ["chapters"] * 3
    await web_login(client, "alice")
    page = await client.get("/providers")
    assert 'class="error-stage"' in page.text
    assert "at chapters" in page.text


async def test_recovery_clears_the_stage(
    client: httpx.AsyncClient, users: UserFactory, hub: FakeSiteHub
) -> None:
    alice = await users.alice()
    hub.sites[PROVIDER].set_variant("chapters", "broken")
    assert (await check_now(client, alice))["stage"] == "chapters"
    hub.sites[PROVIDER].set_variant("chapters", "ajax_new")
    assert (await check_now(client, alice))["is_success"] is True
    row = await status(client, alice)
    assert (row["status"], row["stage"], row["error_kind"]) == ("active", None, None)
