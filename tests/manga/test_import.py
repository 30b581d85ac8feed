"""The catalog through the API: import a manga from a (fake) provider, read it, list its chapters
and pages; 404 for what does not exist, 422 for malformed input, 502 when the provider fails."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from kurobara.db.engine import Database
from kurobara.manga import service as manga_service
from kurobara.manga.models import Manga
from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from kurobara.providers.registry import ProviderRegistry, UnknownProvider
from tests.factories import MangaFactory, Persona, UserFactory, write_providers_file

TIMEOUT = 1.5
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMangaDexSite]:
    with FakeMangaDexSite(name="md", slow_seconds=5) as running:
        yield running


@pytest.fixture(autouse=True)
def healthy_site(site: FakeMangaDexSite) -> Iterator[None]:
    yield
    site.set_fault("ok")


@pytest.fixture
def check_timeout() -> float:
    """The server's default: on a loaded machine an answer can take seconds, and only the test
    of a slow site should see that as a timeout."""
    return 30.0


@pytest.fixture
def settings_overrides(
    site: FakeMangaDexSite, tmp_path: Path, check_timeout: float
) -> dict[str, object]:
    definitions = [site.definition(), site.definition("md-off", enabled=False)]
    return {
        "providers_file": write_providers_file(tmp_path / "providers.yaml", definitions),
        "check_timeout": check_timeout,
    }


@pytest.fixture
async def user(users: UserFactory) -> Persona:
    return await users.alice()


async def import_manga(
    client: httpx.AsyncClient, who: Persona, external_id: str, provider_id: str = "md"
) -> httpx.Response:
    return await client.post(
        "/api/v1/manga/import",
        json={"provider_id": provider_id, "external_id": external_id},
        headers=who.headers,
    )


async def imported(client: httpx.AsyncClient, who: Persona, external_id: str) -> dict[str, Any]:
    response = await import_manga(client, who, external_id)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def manga_count(db: Database) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(Manga)) or 0


# -- import --------------------------------------------------------------------------------


async def test_import_stores_the_manga_and_its_source(
    client: httpx.AsyncClient, user: Persona, site: FakeMangaDexSite
) -> None:
    series = site.catalog.series[0]
    body = await imported(client, user, series.id)
    assert body["title"] == series.title
    assert body["description"] == series.description
    assert set(series.alt_titles) <= set(body["alt_titles"])
    assert body["cover_image"].startswith(f"{site.url}/covers/{series.id}/")
    assert (body["status"], body["year"], body["genres"]) == (
        series.status,
        series.year,
        list(series.genres),
    )
    assert body["nsfw"] is False
    [source] = body["sources"]
    assert {k: source[k] for k in ("provider_id", "external_id", "url")} == {
        "provider_id": "md",
        "external_id": series.id,
        "url": f"{site.url}/title/{series.id}",
    }
    assert source["id"]  # the link's own id, for unlinking it (docs/failover.md)
    read = await client.get(f"/api/v1/manga/{body['id']}", headers=user.headers)
    assert read.json() == body


async def test_title_key_is_the_lower_cased_title(
    client: httpx.AsyncClient, user: Persona, site: FakeMangaDexSite, db: Database
) -> None:
    body = await imported(client, user, site.catalog.series[1].id)
    async with db.session() as session:
        manga = await session.get(Manga, uuid.UUID(body["id"]))
        assert manga is not None
        assert manga.title_key == body["title"].lower()


async def test_importing_a_source_again_returns_the_same_manga(
    client: httpx.AsyncClient, user: Persona, site: FakeMangaDexSite, db: Database
) -> None:
    first = await imported(client, user, site.catalog.series[0].id)
    before = site.requests
    again = await import_manga(client, user, site.catalog.series[0].id)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert site.requests == before  # known sources are not fetched again
    assert await manga_count(db) == 1


async def test_an_id_written_differently_finds_the_same_manga(
    client: httpx.AsyncClient, user: Persona, site: FakeMangaDexSite, db: Database
) -> None:
    series = site.catalog.series[0]
    first = await imported(client, user, series.id)
    again = await import_manga(client, user, series.id.upper())
    assert (again.status_code, again.json()["id"]) == (200, first["id"])
    assert await manga_count(db) == 1


async def test_concurrent_imports_of_one_source_create_one_manga(
    client: httpx.AsyncClient, user: Persona, site: FakeMangaDexSite, db: Database
) -> None:
    series_id = site.catalog.series[2].id
    responses = await asyncio.gather(*(import_manga(client, user, series_id) for _ in range(5)))
    assert sorted(r.status_code for r in responses).count(201) == 1
    assert {r.status_code for r in responses} <= {200, 201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await manga_count(db) == 1


async def test_erotica_rated_manga_is_imported_as_nsfw(
    client: httpx.AsyncClient, user: Persona, site: FakeMangaDexSite
) -> None:
    rated = next(s for s in site.catalog.series if site.ratings[s.id] == "erotica")
    assert (await imported(client, user, rated.id))["nsfw"] is True


async def test_unknown_provider_is_404(client: httpx.AsyncClient, user: Persona) -> None:
    response = await import_manga(client, user, MISSING, provider_id="nowhere")
    assert response.status_code == 404
    assert "nowhere" in response.json()["detail"]


async def test_manga_unknown_to_the_provider_is_404(
    client: httpx.AsyncClient, user: Persona, db: Database
) -> None:
    assert (await import_manga(client, user, MISSING)).status_code == 404
    assert (await import_manga(client, user, "not-a-mangadex-id")).status_code == 404
    assert await manga_count(db) == 0


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("down", "connect"),
        ("slow", "timeout"),
        ("error", "http_status"),
        ("challenge", "bot_challenge"),
        ("layout", "parse"),
        ("ratelimit", "rate_limited"),
    ],
)
@pytest.mark.parametrize("check_timeout", [TIMEOUT])
async def test_provider_failure_is_502_with_its_kind(
    client: httpx.AsyncClient,
    user: Persona,
    site: FakeMangaDexSite,
    db: Database,
    fault: str,
    kind: str,
) -> None:
    site.set_fault(fault)
    response = await import_manga(client, user, site.catalog.series[0].id)
    assert response.status_code == 502
    assert response.json()["detail"]["kind"] == kind
    assert await manga_count(db) == 0


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"provider_id": "md"},
        {"provider_id": "md", "external_id": "   "},
        {"provider_id": "md", "external_id": "x" * 256},
        {"provider_id": "md", "external_id": "a\x00b"},
        {"provider_id": "md", "external_id": "x", "extra": 1},
    ],
    ids=["empty", "no-external-id", "blank", "too-long", "nul", "extra-field"],
)
async def test_malformed_import_is_422(
    client: httpx.AsyncClient, user: Persona, payload: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/manga/import", json=payload, headers=user.headers)
    assert response.status_code == 422


async def test_catalog_needs_a_login(client: httpx.AsyncClient, site: FakeMangaDexSite) -> None:
    response = await client.post(
        "/api/v1/manga/import", json={"provider_id": "md", "external_id": MISSING}
    )
    assert response.status_code == 401
    assert (await client.get(f"/api/v1/manga/{MISSING}")).status_code == 401


async def test_service_import_is_what_other_domains_call(
    app: Any, db: Database, site: FakeMangaDexSite
) -> None:
    registry: ProviderRegistry = app.state.registry
    series = site.catalog.series[3]
    async with db.session() as session:
        manga = await manga_service.import_from_provider(
            db_session=session, registry=registry, provider_id="md", external_id=series.id
        )
        again = await manga_service.import_from_provider(
            db_session=session, registry=registry, provider_id="md", external_id=series.id
        )
        assert (manga.title, again.id) == (series.title, manga.id)
        with pytest.raises(UnknownProvider):
            await manga_service.import_from_provider(
                db_session=session, registry=registry, provider_id="gone", external_id="x"
            )


# -- reading -------------------------------------------------------------------------------


async def test_unknown_manga_is_404_and_malformed_id_422(
    client: httpx.AsyncClient, user: Persona
) -> None:
    for suffix in ("", "/chapters", "/chapters/x/pages"):
        missing = await client.get(f"/api/v1/manga/{MISSING}{suffix}", headers=user.headers)
        malformed = await client.get(f"/api/v1/manga/not-a-uuid{suffix}", headers=user.headers)
        assert (missing.status_code, malformed.status_code) == (404, 422), suffix


async def test_chapters_come_from_the_provider_oldest_first(
    client: httpx.AsyncClient, user: Persona, site: FakeMangaDexSite
) -> None:
    series = site.catalog.series[0]
    manga = await imported(client, user, series.id)
    response = await client.get(f"/api/v1/manga/{manga['id']}/chapters", headers=user.headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["provider_id"], body["external_id"]) == ("md", series.id)
    expected = [c.id for c in site.feeds[series.id] if c.language == "en"]
    assert [c["external_id"] for c in body["chapters"]] == expected
    assert body["chapters"][0]["number"] == series.chapters[0].number


async def test_chapters_are_cached_briefly(
    client: httpx.AsyncClient, user: Persona, site: FakeMangaDexSite
) -> None:
    manga = await imported(client, user, site.catalog.series[0].id)
    url = f"/api/v1/manga/{manga['id']}/chapters"
    first = await client.get(url, headers=user.headers)
    before = site.requests
    site.set_fault("error")
    second = await client.get(url, headers=user.headers)
    assert second.json() == first.json()
    assert site.requests == before


async def test_chapter_list_failure_is_502_with_its_kind(
    client: httpx.AsyncClient, user: Persona, site: FakeMangaDexSite
) -> None:
    manga = await imported(client, user, site.catalog.series[0].id)
    site.set_fault("layout")
    response = await client.get(f"/api/v1/manga/{manga['id']}/chapters", headers=user.headers)
    assert response.status_code == 502
    assert response.json()["detail"]["kind"] == "parse"


async def test_manga_without_a_configured_provider_is_503(
    client: httpx.AsyncClient, user: Persona, db: Database
) -> None:
    orphan = await MangaFactory(db).create("Orphan", sources=[("gone", "x"), ("md-off", "y")])
    response = await client.get(f"/api/v1/manga/{orphan.id}/chapters", headers=user.headers)
    assert response.status_code == 503


async def test_pages_are_image_urls_from_the_provider(
    client: httpx.AsyncClient, user: Persona, site: FakeMangaDexSite
) -> None:
    series = site.catalog.series[0]
    manga = await imported(client, user, series.id)
    chapter = site.feeds[series.id][0]
    response = await client.get(
        f"/api/v1/manga/{manga['id']}/chapters/{chapter.id}/pages", headers=user.headers
    )
    assert response.status_code == 200
    pages = response.json()["pages"]
    assert len(pages) == chapter.chapter.pages
    # Served through this server's image proxy, which fetches the provider's page image.
    assert pages[0]["index"] == 1
    assert pages[0]["url"].startswith("/api/v1/images/")
    image = await client.get(pages[0]["url"])
    assert image.status_code == 200
    assert image.headers["content-type"].startswith("image/svg+xml")


async def test_unknown_chapter_is_404_and_failure_502(
    client: httpx.AsyncClient, user: Persona, site: FakeMangaDexSite
) -> None:
    series = site.catalog.series[0]
    manga = await imported(client, user, series.id)
    url = f"/api/v1/manga/{manga['id']}/chapters/{MISSING}/pages"
    assert (await client.get(url, headers=user.headers)).status_code == 404
    site.set_fault("challenge")
    chapter = site.feeds[series.id][0]
    failed = await client.get(
        f"/api/v1/manga/{manga['id']}/chapters/{chapter.id}/pages", headers=user.headers
    )
    assert failed.status_code == 502
    assert failed.json()["detail"]["kind"] == "bot_challenge"
