"""The ``madara`` kind against the fake Madara site: every operation, both chapter endpoints,
health checks, and every fault switch as its classified error kind."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator

import pytest

from kurobara.providers.errors import ParseFailure, ProviderError, UnknownManga
from kurobara.providers.fakes.catalog import FakeSeries
from kurobara.providers.fakes.madara import FakeMadaraSite, chapter_slug
from kurobara.providers.http import HttpClient
from kurobara.providers.madara import (
    MadaraParams,
    MadaraProvider,
    chapter_id_from_url,
    madara_post_id,
    parse_reader_page,
    parse_search_page,
)
from kurobara.providers.scraping import parse_html
from tests.providers.conftest import HUNG_TIMEOUT, TIMEOUT, make_provider


@pytest.fixture
def site() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite(slow_seconds=10) as running:
        yield running


@pytest.fixture
def provider(site: FakeMadaraSite, http: HttpClient) -> MadaraProvider:
    return make_provider(MadaraProvider, site, http)


def a_series(site: FakeMadaraSite) -> FakeSeries:
    """A series with alternative titles (every third one has them)."""
    return site.catalog.series[0]


async def test_search_finds_the_title_with_its_cover(
    site: FakeMadaraSite, provider: MadaraProvider, http: HttpClient
) -> None:
    series = a_series(site)
    results = await provider.search(series.title)
    assert results[0].title == series.title
    assert results[0].external_id == series.slug
    assert results[0].status == series.status
    assert results[0].cover_url == f"{site.url}/wp-content/uploads/covers/{series.slug}.svg"
    cover = await http.get("t", results[0].cover_url)
    assert cover.headers["content-type"].startswith("image/svg+xml")


async def test_search_without_matches_is_empty(provider: MadaraProvider) -> None:
    assert await provider.search("zzzz-nothing-like-this") == []


async def test_search_pages_and_limit(site: FakeMadaraSite, provider: MadaraProvider) -> None:
    first = await provider.search("a", page=1)
    second = await provider.search("a", page=2)
    assert len(first) == 10
    assert second
    assert not {r.external_id for r in first} & {r.external_id for r in second}
    assert len(await provider.search("a", limit=3)) == 3
    assert await provider.search("a", page=99) == []


async def test_details_read_the_series_page(site: FakeMadaraSite, provider: MadaraProvider) -> None:
    series = a_series(site)
    details = await provider.get_manga_details(series.slug)
    assert details.title == series.title
    assert details.alt_titles == list(series.alt_titles)
    # One paragraph per sentence on the page, kept apart.
    assert details.description is not None
    assert details.description.count("\n\n") == 2
    assert details.description.replace("\n\n", " ") == series.description
    assert details.genres == list(series.genres)
    assert details.authors == list(series.authors)
    assert (details.status, details.year) == (series.status, series.year)
    assert details.cover_url == f"{site.url}/wp-content/uploads/covers/{series.slug}.svg"
    assert details.url == f"{site.url}/manga/{series.slug}/"


async def test_unknown_series_is_unknown_manga(provider: MadaraProvider) -> None:
    with pytest.raises(UnknownManga):
        await provider.get_manga_details("no-such-series")
    with pytest.raises(UnknownManga):
        await provider.get_chapters("no-such-series")


@pytest.mark.parametrize("variant", ["ajax_new", "ajax_old", "html"])
@pytest.mark.parametrize("endpoint", ["new", "old"])
async def test_chapters_come_oldest_first_from_either_endpoint(
    site: FakeMadaraSite, http: HttpClient, endpoint: str, variant: str
) -> None:
    site.set_variant("chapters", variant)
    provider = make_provider(MadaraProvider, site, http, chapters_endpoint=endpoint)
    series = a_series(site)
    chapters = await provider.get_chapters(series.slug)
    assert [c.number for c in chapters] == [c.number for c in series.chapters]
    assert [c.published_at for c in chapters] == [c.published_at for c in series.chapters]
    assert chapters[0].external_id == f"{series.slug}/{chapter_slug(series.chapters[0])}"


async def test_pages_list_every_image_of_the_chapter(
    site: FakeMadaraSite, provider: MadaraProvider, http: HttpClient
) -> None:
    series = a_series(site)
    chapter = series.chapters[-1]
    pages = await provider.get_pages(f"{series.slug}/{chapter_slug(chapter)}")
    assert [p.index for p in pages] == list(range(1, chapter.pages + 1))
    image = await http.get("t", pages[-1].url)
    assert image.headers["content-type"].startswith("image/svg+xml")


async def test_unknown_chapter_is_unknown_manga(
    site: FakeMadaraSite, provider: MadaraProvider
) -> None:
    with pytest.raises(UnknownManga):
        await provider.get_pages(f"{a_series(site).slug}/chapter-99999")
    with pytest.raises(UnknownManga):
        await provider.get_pages("../../wp-admin")


async def test_a_site_under_another_manga_path(http: HttpClient) -> None:
    with FakeMadaraSite(manga_path="webtoon") as site:
        provider = make_provider(MadaraProvider, site, http)
        series = a_series(site)
        results = await provider.search(series.title)
        assert results[0].url == f"{site.url}/webtoon/{series.slug}/"
        assert (await provider.get_manga_details(series.slug)).title == series.title


async def test_a_wrong_manga_path_is_a_parse_failure(
    site: FakeMadaraSite, http: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, site, http, manga_path="webtoon")
    with pytest.raises(ParseFailure, match="manga_path"):
        await provider.search("a")


async def test_health_check_passes_with_keyword_and_canary(provider: MadaraProvider) -> None:
    result = await provider.health_check(TIMEOUT)
    assert (result.ok, result.error_kind, result.http_status) == (True, None, 200)


@pytest.mark.parametrize(
    "health", [{"keyword": "page-item-detail"}, {"canary_query": "a"}], ids=["keyword", "canary"]
)
async def test_health_check_notices_a_changed_layout(
    site: FakeMadaraSite, http: HttpClient, health: dict[str, str]
) -> None:
    provider = make_provider(MadaraProvider, site, http, health=health)
    assert (await provider.health_check(TIMEOUT)).ok
    site.set_fault("layout")
    result = await provider.health_check(TIMEOUT)
    assert (result.ok, result.error_kind) == (False, "parse")


Operation = Callable[[MadaraProvider, FakeMadaraSite], Awaitable[object]]


def _first_chapter_id(site: FakeMadaraSite) -> str:
    series = a_series(site)
    return f"{series.slug}/{chapter_slug(series.chapters[0])}"


OPERATIONS: dict[str, tuple[str, Operation]] = {
    "search": ("new", lambda p, s: p.search("a")),
    "details": ("new", lambda p, s: p.get_manga_details(a_series(s).slug)),
    "chapters-new": ("new", lambda p, s: p.get_chapters(a_series(s).slug)),
    "chapters-old": ("old", lambda p, s: p.get_chapters(a_series(s).slug)),
    "pages": ("new", lambda p, s: p.get_pages(_first_chapter_id(s))),
}
FAULTS = [
    ("down", "connect"),
    ("slow", "timeout"),
    ("error", "http_status"),
    ("challenge", "bot_challenge"),
    ("ratelimit", "rate_limited"),
    ("layout", "parse"),
]


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize(("fault", "kind"), FAULTS)
@pytest.mark.parametrize("http_timeout", [HUNG_TIMEOUT])
async def test_every_fault_is_its_error_kind_within_the_timeout(
    site: FakeMadaraSite, http: HttpClient, operation: str, fault: str, kind: str
) -> None:
    endpoint, call = OPERATIONS[operation]
    provider = make_provider(MadaraProvider, site, http, chapters_endpoint=endpoint)
    site.set_fault(fault)
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        await call(provider, site)
    assert caught.value.kind == kind
    # Given up at the timeout (one request for most operations, two for the old chapter
    # endpoint), not after the hanging site's answer; wall clock, so only that far apart.
    assert time.monotonic() - started < site.slow_seconds


@pytest.mark.parametrize(("fault", "kind"), FAULTS)
async def test_health_check_reports_every_fault(
    site: FakeMadaraSite, provider: MadaraProvider, fault: str, kind: str
) -> None:
    site.set_fault(fault)
    result = await provider.health_check(HUNG_TIMEOUT)
    assert (result.ok, result.error_kind) == (False, kind)
    assert result.error


# -- parsing helpers on markup shaped like real Madara installs ----------------------------


def test_post_id_comes_from_wherever_the_theme_put_it() -> None:
    holder = '<div id="manga-chapters-holder" data-id="4711"></div>'
    shortlink = '<head><link rel="shortlink" href="https://site.test/?p=815"></head>'
    body_class = '<body class="single wp-manga-template-default postid-42"></body>'
    assert madara_post_id(parse_html(holder, what="t")) == "4711"
    assert madara_post_id(parse_html(shortlink, what="t")) == "815"
    assert madara_post_id(parse_html(body_class, what="t")) == "42"
    assert madara_post_id(parse_html("<p>nothing</p>", what="t")) is None


def test_chapter_ids_drop_the_reading_style() -> None:
    url = "https://site.test/manga/the-blade/chapter-10-5/?style=list"
    assert chapter_id_from_url(url, "manga") == "the-blade/chapter-10-5"
    with pytest.raises(ParseFailure):
        chapter_id_from_url("https://site.test/read/the-blade/1/", "manga")


def test_search_results_read_lazy_covers() -> None:
    page = """<div class="c-tabs-item"><div class="row c-tabs-item__content">
      <div class="tab-thumb"><a href="/manga/one/"><img src="data:image/gif;base64,R0l="
        data-lazy-src="https://cdn.test/one-193x278.jpg"></a></div>
      <div class="post-title"><h3><a href="https://site.test/manga/one/">One</a></h3></div>
    </div><div class="row c-tabs-item__content">
      <div class="tab-thumb"><a href="/manga/two/"><img
        srcset="/two-110x150.jpg 110w, /two-193x278.jpg 193w"></a></div>
      <div class="post-title"><h3><a href="/manga/two/">Two</a></h3></div>
    </div></div>"""
    results = parse_search_page(
        parse_html(page, what="t"),
        page_url="https://site.test/?s=o",
        params=MadaraParams(),
        provider_id="p",
        nsfw=False,
    )
    assert [(r.external_id, r.cover_url) for r in results] == [
        ("one", "https://cdn.test/one-193x278.jpg"),
        ("two", "https://site.test/two-193x278.jpg"),
    ]


def test_encrypted_chapters_without_their_key_are_a_clear_parse_failure() -> None:
    page = '<script id="chapter-protector-data">var chapter_data=1;</script>'
    with pytest.raises(ParseFailure, match="protected"):
        parse_reader_page(
            parse_html(page, what="t"), page_url="https://s.test/", params=MadaraParams()
        )
