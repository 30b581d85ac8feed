"""Search and monitoring: down and disabled providers are skipped (unless include_down), and a
provider that fails a search is checked early."""

from __future__ import annotations

from typing import Any

import httpx

from kurobara.monitoring.jobs import Monitor
from tests.factories import UserFactory
from tests.monitoring.conftest import ManualClock
from tests.monitoring.helpers import row
from tests.monitoring.sites import PingSite


def outcomes(body: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {p["provider_id"]: (p["status"], p.get("reason")) for p in body["providers"]}


async def search(
    client: httpx.AsyncClient, headers: dict[str, str], **params: object
) -> dict[str, Any]:
    response = await client.get("/api/v1/search", params={"q": "blade", **params},
                                headers=headers)  # fmt: skip
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_down_provider_is_skipped_unless_included(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock,
    sites: list[PingSite],
) -> None:  # fmt: skip
    bob = await users.bob()
    sites[1].set_fault("error")
    for _ in range(3):
        await monitor.step()
        clock.advance(seconds=61)
    assert (await row(monitor.db, "site1")).status == "down"
    body = await search(client, bob.headers)
    assert outcomes(body) == {"site0": ("ok", None), "site1": ("skipped", "down")}
    included = await search(client, bob.headers, include_down="true")
    assert outcomes(included)["site1"][0] == "error"


async def test_disabled_provider_is_skipped_even_when_down_ones_are_included(
    client: httpx.AsyncClient, users: UserFactory, sites: list[PingSite]
) -> None:
    alice = await users.alice()
    await client.patch("/api/v1/providers/site1/status", json={"is_enabled": False},
                       headers=alice.headers)  # fmt: skip
    body = await search(client, alice.headers, include_down="true")
    assert outcomes(body)["site1"] == ("skipped", "disabled")
    assert sites[1].requests == 0


async def test_a_provider_failing_a_search_is_checked_early(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock,
    sites: list[PingSite],
) -> None:  # fmt: skip
    bob = await users.bob()
    await monitor.step()
    clock.advance(minutes=5)
    assert await monitor.step() == []
    sites[0].set_fault("error")
    body = await search(client, bob.headers)
    assert outcomes(body)["site0"][0] == "error"
    assert (await row(monitor.db, "site0")).next_check_at == clock.now()
    [report] = await monitor.step()
    assert report.provider_id == "site0"
    assert report.result.error_kind == "http_status"
    await search(client, bob.headers)  # failing again: its retry interval decides, not searches
    assert await monitor.step() == []
