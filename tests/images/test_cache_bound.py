"""The disk cache under pressure, through the HTTP stack: filled through the proxy far past a
small ``image_cache_mb``, it keeps to its bound on disk, and the covers of library manga stay
(pinned) and are still served with their fake site down, while the rest was evicted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kurobara.images.cache import MiB
from kurobara.providers.fakes.madara import FakeMadaraSite
from tests.factories import Persona, UserFactory, write_providers_file
from tests.images.test_proxy import first_chapter_pages, import_manga

CACHE_MB = 0.004  # about five of the fake site's images


@pytest.fixture(scope="module")
def madara() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite(name="mad") as running:
        yield running


@pytest.fixture(autouse=True)
def site_up(madara: FakeMadaraSite) -> Iterator[None]:
    yield
    madara.set_fault("ok")


@pytest.fixture
def settings_overrides(madara: FakeMadaraSite, tmp_path: Path) -> dict[str, object]:
    return {
        "providers_file": write_providers_file(tmp_path / "providers.yaml", [madara.definition()]),
        "check_timeout": 10.0,  # a loaded machine must not turn a page list into a timeout
        "image_cache_mb": CACHE_MB,
    }


def on_disk(tmp_path: Path) -> int:
    root = tmp_path / "images"
    return sum(
        path.stat().st_size for folder in ("lru", "pinned") for path in (root / folder).iterdir()
    )


async def test_library_covers_outlive_a_cache_filled_past_its_bound_and_their_site(
    client: httpx.AsyncClient, users: UserFactory, madara: FakeMadaraSite, tmp_path: Path
) -> None:
    alice: Persona = await users.alice()
    series = madara.catalog.series
    # One cover stored while its manga is in the library, one seen before it joined, one never.
    kept = await import_manga(client, alice, "mad", series[0].slug)
    joined = await import_manga(client, alice, "mad", series[1].slug)
    other = await import_manga(client, alice, "mad", series[2].slug)
    await client.post(f"/api/v1/library/{kept['id']}", headers=alice.headers)
    assert (await client.get(kept["cover_url"])).status_code == 200
    assert (await client.get(joined["cover_url"])).status_code == 200
    await client.post(f"/api/v1/library/{joined['id']}", headers=alice.headers)
    assert (await client.get(joined["cover_url"])).headers["x-cache"] == "HIT"  # pins it
    assert (await client.get(other["cover_url"])).status_code == 200

    # Pages of three chapters: several times what the cache may hold.
    served = 0
    for manga in (kept, joined, other):
        for page in await first_chapter_pages(client, alice, manga["id"]):
            response = await client.get(page["url"])
            assert response.status_code == 200
            served += len(response.content)
        assert on_disk(tmp_path) <= CACHE_MB * MiB
    assert served > 3 * CACHE_MB * MiB

    madara.set_fault("down")
    for manga in (kept, joined):
        response = await client.get(manga["cover_url"])
        assert (response.status_code, response.headers["x-cache"]) == (200, "HIT")
        assert response.headers["content-type"].startswith("image/")
    assert (await client.get(other["cover_url"])).status_code == 502  # evicted, not pinned
    assert len(list((tmp_path / "images" / "pinned").iterdir())) == 2
