"""Favorites import against providers that hang: the monitor is asked first, and a hanging site
costs at most one round of timeouts, not one per item. Loopback fake Madara sites."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kurobara.providers.fakes.madara import FakeMadaraSite
from tests.factories import UserFactory, write_providers_file

IMPORT = "/api/v1/favorites/import"
HANG_SECONDS = 3600.0  # longer than any test: a request to this site never gets an answer


@pytest.fixture
def good() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite(name="good-site") as site:
        yield site


@pytest.fixture
def hanging() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite(name="hanging-site", slow_seconds=HANG_SECONDS) as site:
        yield site


@pytest.fixture
def settings_overrides(
    good: FakeMadaraSite, hanging: FakeMadaraSite, tmp_path: Path
) -> dict[str, object]:
    path = write_providers_file(
        tmp_path / "providers.yaml", [good.definition("good"), hanging.definition("hang")]
    )
    # Inline, so that the answer itself shows the import did not wait; a short timeout, so
    # that an import that does wait fails its assertions instead of running for hours.
    return {"providers_file": path, "check_timeout": 2, "favorites_import_inline_max": 100}


def _items(site: FakeMadaraSite, provider_id: str, count: int) -> list[dict[str, object]]:
    return [
        {"title": s.title, "sources": [{"provider_id": provider_id, "external_id": s.slug}]}
        for s in site.catalog.series[:count]
    ]


async def test_it_skips_a_provider_the_monitor_has_down_without_asking_it(
    client: httpx.AsyncClient, users: UserFactory, good: FakeMadaraSite, hanging: FakeMadaraSite
) -> None:
    bob = await users.bob()
    hanging.set_fault("down")
    for _ in range(3):  # three failed checks: the monitor marks it down
        await client.post("/api/v1/providers/hang/test", headers=bob.headers)
    hanging.set_fault("slow")
    asked = hanging.requests
    body = {"items": _items(hanging, "hang", 30) + _items(good, "good", 3)}
    response = await client.post(IMPORT, json=body, headers=bob.headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["imported"], report["failed"]) == (3, 30)
    assert {i["error"] for i in report["items"][:30]} == {"hang: provider down, retry later"}
    assert hanging.requests == asked


async def test_a_hanging_provider_the_monitor_does_not_know_yet_costs_one_round(
    client: httpx.AsyncClient, users: UserFactory, good: FakeMadaraSite, hanging: FakeMadaraSite
) -> None:
    bob = await users.bob()
    hanging.set_fault("slow")
    body = {"items": _items(hanging, "hang", 25) + _items(good, "good", 3)}
    report = (await client.post(IMPORT, json=body, headers=bob.headers)).json()
    assert (report["imported"], report["failed"]) == (3, 25)
    errors = [i["error"] for i in report["items"][:25]]
    assert errors.count("hang: provider down, retry later") >= 25 - 4
    # At most one fetch per concurrency slot reached the site; the rest were not sent.
    assert hanging.requests <= 4


async def test_an_item_falls_back_to_its_next_source_when_the_first_is_down(
    client: httpx.AsyncClient, users: UserFactory, good: FakeMadaraSite, hanging: FakeMadaraSite
) -> None:
    bob = await users.bob()
    hanging.set_fault("slow")
    series = good.catalog.series[5]
    item = {
        "sources": [
            {"provider_id": "hang", "external_id": hanging.catalog.series[5].slug},
            {"provider_id": "good", "external_id": series.slug},
        ]
    }
    report = (await client.post(IMPORT, json={"items": [item]}, headers=bob.headers)).json()
    assert report["items"][0]["status"] == "imported"
