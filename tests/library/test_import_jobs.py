"""Large favorites imports run as jobs: rows in the database that outlive the request and are
worked off, chunk by chunk, by whichever replica claims them. Here the app's own worker is off
and a second "replica" (its own engine and HTTP client) does the work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.library import jobs
from kurobara.providers.fakes.madara import FakeMadaraSite
from kurobara.providers.http import HttpClient
from kurobara.providers.registry import ProviderRegistry
from tests.factories import MangaFactory, UserFactory, write_providers_file

IMPORT = "/api/v1/favorites/import"


@pytest.fixture
def site() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite(name="job-site") as running:
        yield running


@pytest.fixture
def settings_overrides(site: FakeMadaraSite, tmp_path: Path) -> dict[str, object]:
    path = write_providers_file(tmp_path / "providers.yaml", [site.definition("src")])
    return {"providers_file": path, "favorites_import_worker": False}


@pytest.fixture
async def replica(settings: Settings) -> AsyncIterator[jobs.ImportWorker]:
    db = Database(settings.resolved_database_url)
    http = HttpClient(user_agent="test", timeout=settings.check_timeout)
    registry = ProviderRegistry.from_settings(settings, http)
    try:
        yield jobs.ImportWorker(db=db, registry=registry, settings=settings)
    finally:
        await http.aclose()
        await db.dispose()


def _items(site: FakeMadaraSite, count: int) -> list[dict[str, object]]:
    return [
        {"title": s.title, "sources": [{"provider_id": "src", "external_id": s.slug}]}
        for s in site.catalog.series[:count]
    ]


async def test_a_file_needing_many_fetches_becomes_a_job_with_progress(
    client: httpx.AsyncClient,
    users: UserFactory,
    site: FakeMadaraSite,
    manga: MangaFactory,
    replica: jobs.ImportWorker,
) -> None:
    bob = await users.bob()
    local = await manga.create("Local", sources=[("elsewhere", "local")])
    items = [{"sources": [{"provider_id": "elsewhere", "external_id": "local"}]}, *_items(site, 30)]
    response = await client.post(IMPORT, json={"items": items}, headers=bob.headers)
    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["status"], job["total"], job["processed"], job["imported"]) == ("queued", 31, 1, 1)
    assert job["items"][0]["manga_id"] == str(local.id)  # matched at once, in the request
    url = response.headers["Location"]
    assert url == f"{IMPORT}/jobs/{job['job_id']}"

    progress = []
    while await replica.step():
        progress.append((await client.get(url, headers=bob.headers)).json()["processed"])
    assert progress == sorted(progress)
    assert progress[-1] == 31
    assert len(progress) >= 2
    done = (await client.get(url, headers=bob.headers)).json()
    assert (done["status"], done["progress"], done["imported"], done["failed"]) == (
        "done", 1.0, 31, 0,
    )  # fmt: skip
    assert [i["index"] for i in done["items"]] == list(range(31))
    assert (await client.get("/api/v1/favorites/count", headers=bob.headers)).json() == {
        "count": 31
    }


async def test_a_small_file_still_answers_inline_unless_a_job_is_asked_for(
    client: httpx.AsyncClient, users: UserFactory, site: FakeMadaraSite
) -> None:
    bob = await users.bob()
    body = {"items": _items(site, 2)}
    inline = await client.post(IMPORT, json=body, headers=bob.headers)
    assert inline.status_code == 200
    assert set(inline.json()) == {"imported", "already_present", "failed", "items"}
    queued = await client.post(f"{IMPORT}?background=true", json=body, headers=bob.headers)
    assert queued.status_code == 202
    assert queued.json()["status"] == "done"  # nothing left to fetch
    assert queued.json()["already_present"] == 2


async def test_a_claimed_job_is_not_taken_by_another_worker_and_others_cannot_see_it(
    client: httpx.AsyncClient,
    users: UserFactory,
    site: FakeMadaraSite,
    replica: jobs.ImportWorker,
    settings: Settings,
) -> None:
    bob, charlie = await users.bob(), await users.charlie()
    body = {"items": _items(site, 3)}
    job = (await client.post(f"{IMPORT}?background=true", json=body, headers=bob.headers)).json()
    async with replica.db.session() as session:
        claimed = await jobs.claim_job(db_session=session, owner="replica-a", now=jobs.utcnow())
        again = await jobs.claim_job(db_session=session, owner="replica-b", now=jobs.utcnow())
    assert claimed is not None
    assert str(claimed.id) == job["job_id"]
    assert again is None
    other = await client.get(f"{IMPORT}/jobs/{job['job_id']}", headers=charlie.headers)
    assert other.status_code == 404
