"""Favorites import of manga the instance does not have yet: imported from their providers
(a local fake Madara site), or reported failed with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from kurobara.providers.fakes.madara import FakeMadaraSite
from tests.factories import MangaFactory, UserFactory

IMPORT = "/api/v1/favorites/import"


@pytest.fixture
def site() -> Iterator[FakeMadaraSite]:
    running = FakeMadaraSite(slow_seconds=5)
    with running:
        yield running


@pytest.fixture
def settings_overrides(site: FakeMadaraSite, tmp_path: Path) -> dict[str, object]:
    path = tmp_path / "providers.yaml"
    path.write_text(yaml.safe_dump({"providers": [site.definition("fakemadara")]}))
    return {"providers_file": path}


def _item(*sources: tuple[str, str], title: str = "T") -> dict[str, object]:
    return {
        "title": title,
        "notes": "imported",
        "sources": [{"provider_id": p, "external_id": e} for p, e in sources],
    }


async def test_it_imports_a_missing_manga_from_its_provider(
    client: httpx.AsyncClient, users: UserFactory, site: FakeMadaraSite
) -> None:
    bob = await users.bob()
    series = site.catalog.series[0]
    body = {"items": [_item(("fakemadara", series.slug))]}
    report = (await client.post(IMPORT, json=body, headers=bob.headers)).json()
    assert report["imported"] == 1, report
    manga_id = report["items"][0]["manga_id"]
    entry = (await client.get(f"/api/v1/library/{manga_id}", headers=bob.headers)).json()
    assert entry["is_favorite"] is True
    assert entry["notes"] == "imported"
    assert entry["manga"]["title"] == series.title


async def test_it_falls_back_to_the_next_source_of_an_item(
    client: httpx.AsyncClient, users: UserFactory, site: FakeMadaraSite
) -> None:
    bob = await users.bob()
    series = site.catalog.series[1]
    body = {"items": [_item(("gone-provider", "x"), ("fakemadara", series.slug))]}
    report = (await client.post(IMPORT, json=body, headers=bob.headers)).json()
    assert report["items"][0]["status"] == "imported"


async def test_it_reports_each_failure_and_imports_the_rest(
    client: httpx.AsyncClient, users: UserFactory, site: FakeMadaraSite
) -> None:
    bob = await users.bob()
    good = site.catalog.series[2]
    body = {
        "items": [
            _item(("gone-provider", "x"), title="Unknown provider"),
            _item(("fakemadara", good.slug), title="Good"),
        ]
    }
    report = (await client.post(IMPORT, json=body, headers=bob.headers)).json()
    assert [i["status"] for i in report["items"]] == ["failed", "imported"]
    assert "gone-provider" in report["items"][0]["error"]
    site.set_fault("down")
    again = {"items": [_item(("fakemadara", site.catalog.series[3].slug), title="Site down")]}
    report = (await client.post(IMPORT, json=again, headers=bob.headers)).json()
    assert report["failed"] == 1
    assert report["items"][0]["error"].startswith("fakemadara: ")


async def test_a_source_written_differently_still_finds_an_existing_favorite(
    client: httpx.AsyncClient, users: UserFactory, site: FakeMadaraSite, manga: MangaFactory
) -> None:
    bob = await users.bob()
    series = site.catalog.series[4]
    existing = await manga.create(series.title, sources=[("fakemadara", series.slug)])
    await client.post(f"/api/v1/favorites/{existing.id}", headers=bob.headers)
    # Not matched as written; the provider's import resolves it to the manga already there.
    body = {"items": [_item(("fakemadara", f"{series.slug}/"))]}
    report = (await client.post(IMPORT, json=body, headers=bob.headers)).json()
    assert report["items"][0]["status"] == "already_present", report
    assert report["items"][0]["manga_id"] == str(existing.id)
