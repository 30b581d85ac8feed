"""The ``mangadex`` kind against its fake site: search, details, the paged chapter feed, pages
through the at-home server, and every fault as its classified error kind within the timeout."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from kurobara.config import Settings
from kurobara.providers.definitions import ProviderDefinition
from kurobara.providers.errors import ProviderError, UnknownManga
from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from kurobara.providers.http import HttpClient
from kurobara.providers.mangadex import MangaDexProvider
from kurobara.providers.registry import ProviderConfigError, load_definitions, parse_definition
from tests.factories import write_providers_file
from tests.providers.conftest import HUNG_TIMEOUT, TIMEOUT


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMangaDexSite]:
    with FakeMangaDexSite(slow_seconds=10) as running:
        yield running


@pytest.fixture(autouse=True)
def healthy_site(site: FakeMangaDexSite) -> Iterator[None]:
    yield
    site.set_fault("ok")


@pytest.fixture
def make_provider(site: FakeMangaDexSite, http: HttpClient) -> Callable[..., MangaDexProvider]:
    def make(**overrides: Any) -> MangaDexProvider:
        definition = ProviderDefinition.model_validate(site.definition(**overrides))
        return MangaDexProvider(definition, http)

    return make


@pytest.fixture
def provider(make_provider: Callable[..., MangaDexProvider]) -> MangaDexProvider:
    return make_provider()


def longest_series(site: FakeMangaDexSite) -> str:
    return max(site.catalog.series, key=lambda s: len(s.chapters)).id


async def test_search_finds_titles_with_covers_from_the_uploads_host(
    site: FakeMangaDexSite, provider: MangaDexProvider
) -> None:
    results = await provider.search("the", limit=5)
    assert len(results) == 5
    first = results[0]
    assert "the" in first.title.lower()
    assert first.provider_id == "fake-mangadex"
    assert first.cover_url == (
        f"{site.url}/covers/{first.external_id}/"
        f"{site._cover_file(site.catalog.by_id(first.external_id))}.256.jpg"  # type: ignore[arg-type]
    )
    cover = await provider.http.get(provider.id, first.cover_url)
    assert cover.headers["content-type"] == "image/svg+xml"


async def test_search_pages_through_results(provider: MangaDexProvider) -> None:
    first = await provider.search("the", page=1, limit=3)
    second = await provider.search("the", page=2, limit=3)
    assert len(second) == 3
    assert not {r.external_id for r in first} & {r.external_id for r in second}


async def test_search_without_match_is_empty(provider: MangaDexProvider) -> None:
    assert await provider.search("no such title anywhere") == []


async def test_search_honours_content_ratings(
    site: FakeMangaDexSite, make_provider: Callable[..., MangaDexProvider]
) -> None:
    everything = await make_provider().search("e", limit=100)
    safe_only = await make_provider(content_ratings=["safe"]).search("e", limit=100)
    assert {site.ratings[r.external_id] for r in safe_only} == {"safe"}
    assert len(safe_only) < len(everything)


async def test_details_carry_everything_the_catalog_stores(
    site: FakeMangaDexSite, provider: MangaDexProvider
) -> None:
    series = site.catalog.series[0]
    details = await provider.get_manga_details(series.id)
    assert details.title == series.title
    assert details.description == series.description
    assert set(series.alt_titles) <= set(details.alt_titles)
    assert details.status == series.status
    assert details.year == series.year
    assert details.genres == list(series.genres)
    assert details.authors == list(series.authors)
    assert details.cover_url is not None
    assert details.cover_url.endswith(".512.jpg")
    assert details.url == f"{site.url}/title/{series.id}"


async def test_ids_are_read_in_their_canonical_form(
    site: FakeMangaDexSite, provider: MangaDexProvider
) -> None:
    series = site.catalog.series[0]
    assert (await provider.get_manga_details(series.id.upper())).external_id == series.id


async def test_erotica_rating_marks_the_manga_nsfw(
    site: FakeMangaDexSite, provider: MangaDexProvider
) -> None:
    rated = next(s for s in site.catalog.series if site.ratings[s.id] == "erotica")
    assert (await provider.get_manga_details(rated.id)).nsfw is True
    assert (await provider.get_manga_details(site.catalog.series[0].id)).nsfw is False


async def test_unknown_manga_is_not_found(provider: MangaDexProvider) -> None:
    with pytest.raises(UnknownManga):
        await provider.get_manga_details("00000000-0000-4000-8000-000000000000")
    with pytest.raises(UnknownManga):
        await provider.get_chapters("00000000-0000-4000-8000-000000000000")


async def test_malformed_id_is_not_found_without_asking_the_site(
    site: FakeMangaDexSite, provider: MangaDexProvider
) -> None:
    before = site.requests
    with pytest.raises(UnknownManga):
        await provider.get_manga_details("../../etc/passwd")
    with pytest.raises(UnknownManga):
        await provider.get_pages("not-a-uuid")
    assert site.requests == before


async def test_feed_pages_through_every_chapter_oldest_first(
    site: FakeMangaDexSite, make_provider: Callable[..., MangaDexProvider]
) -> None:
    manga_id = longest_series(site)
    expected = [c.id for c in site.feeds[manga_id] if c.language == "en"]
    provider = make_provider(feed_page_size=5)
    before = site.requests
    chapters = await provider.get_chapters(manga_id)
    assert [c.external_id for c in chapters] == expected
    assert site.requests - before == -(-len(expected) // 5)  # one request per page of five
    assert {c.language for c in chapters} == {"en"}
    assert chapters[0].number == "1"
    assert chapters[0].scanlator == "fake-mangadex scans"
    assert chapters[0].published_at is not None


async def test_feed_filters_by_language(
    site: FakeMangaDexSite, make_provider: Callable[..., MangaDexProvider]
) -> None:
    manga_id = longest_series(site)
    spanish = await make_provider(languages=["es"]).get_chapters(manga_id)
    both = await make_provider(languages=["en", "es"]).get_chapters(manga_id)
    assert spanish
    assert {c.language for c in spanish} == {"es"}
    assert len(both) == len(site.feeds[manga_id])


async def test_pages_come_from_the_at_home_server(
    site: FakeMangaDexSite, provider: MangaDexProvider
) -> None:
    chapter = site.feeds[site.catalog.series[0].id][0]
    pages = await provider.get_pages(chapter.id)
    assert [p.index for p in pages] == list(range(1, chapter.chapter.pages + 1))
    # A MangaDex@Home node's base URL carries its (expiring) access token.
    assert pages[0].url.startswith(f"{site.url}/node/")
    assert pages[0].url.endswith(f"/data/{chapter.hash}/{chapter.files()[0]}")
    image = await provider.http.get(provider.id, pages[-1].url)
    assert image.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in image.content


async def test_data_saver_pages_use_the_compressed_path(
    site: FakeMangaDexSite, make_provider: Callable[..., MangaDexProvider]
) -> None:
    chapter = site.feeds[site.catalog.series[0].id][0]
    pages = await make_provider(data_saver=True).get_pages(chapter.id)
    assert f"/data-saver/{chapter.hash}/" in pages[0].url


async def test_unknown_chapter_is_not_found(provider: MangaDexProvider) -> None:
    with pytest.raises(UnknownManga):
        await provider.get_pages("00000000-0000-4000-8000-000000000000")


def _operations(
    site: FakeMangaDexSite, provider: MangaDexProvider
) -> dict[str, Callable[[], Coroutine[Any, Any, object]]]:
    series = site.catalog.series[0]
    return {
        "search": lambda: provider.search("the"),
        "details": lambda: provider.get_manga_details(series.id),
        "chapters": lambda: provider.get_chapters(series.id),
        "pages": lambda: provider.get_pages(site.feeds[series.id][0].id),
    }


@pytest.mark.parametrize("operation", ["search", "details", "chapters", "pages"])
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
@pytest.mark.parametrize("http_timeout", [HUNG_TIMEOUT])
async def test_fault_is_its_error_kind_within_the_timeout(
    site: FakeMangaDexSite, provider: MangaDexProvider, operation: str, fault: str, kind: str
) -> None:
    call = _operations(site, provider)[operation]
    site.set_fault(fault)
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        await call()
    assert caught.value.kind == kind
    assert time.monotonic() - started < site.slow_seconds  # given up, not waited out


async def test_health_check_passes_on_a_healthy_site(provider: MangaDexProvider) -> None:
    result = await provider.health_check(timeout=TIMEOUT)
    assert result.ok, result.error


async def test_health_canary_notices_a_changed_layout(
    site: FakeMangaDexSite, provider: MangaDexProvider
) -> None:
    site.set_fault("layout")
    result = await provider.health_check(timeout=TIMEOUT)
    assert (result.ok, result.error_kind) == (False, "parse")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("api_url", "ftp://example.org"),
        ("feed_page_size", 501),
        ("languages", []),
        ("content_ratings", ["family-friendly"]),
        ("no_such_param", 1),
    ],
)
def test_invalid_params_name_the_field(site: FakeMangaDexSite, field: str, value: object) -> None:
    with pytest.raises(ProviderConfigError, match=f"field '{field}"):
        parse_definition(site.definition(**{field: value}), source="providers.yaml", index=1)


def test_builtin_mangadex_keeps_to_its_published_rate(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, builtin_providers=True, data_dir=tmp_path)  # type: ignore[call-arg]
    loaded = {definition.id: (definition, cls) for definition, cls in load_definitions(settings)}
    definition, cls = loaded["mangadex"]
    assert cls is MangaDexProvider
    assert definition.rate_limit == 3  # under the published 5/s, as the issue asks
    assert cls.Params.model_validate(definition.params).at_home_rate == 40 / 60
    assert definition.params["api_url"] == "https://api.mangadex.org"


def test_fake_site_definition_loads_from_a_providers_file(
    site: FakeMangaDexSite, tmp_path: Path
) -> None:
    path = write_providers_file(tmp_path / "providers.yaml", [site.definition("md")])
    settings = Settings(_env_file=None, builtin_providers=False, providers_file=path)  # type: ignore[call-arg]
    [(definition, cls)] = load_definitions(settings)
    assert (definition.id, cls) == ("md", MangaDexProvider)
