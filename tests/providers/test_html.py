"""The ``html`` kind against the fake HTML site, with the definition the site publishes: every
operation, health checks, every fault switch, and strict validation of the selectors."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from kurobara.providers.errors import ParseFailure, ProviderError, UnknownManga
from kurobara.providers.fakes.catalog import FakeSeries
from kurobara.providers.fakes.html import FakeHtmlSite
from kurobara.providers.html import HtmlParams, HtmlProvider, fill_url, id_from_link
from kurobara.providers.http import HttpClient
from tests.providers.conftest import HUNG_TIMEOUT, TIMEOUT, make_provider


@pytest.fixture
def site() -> Iterator[FakeHtmlSite]:
    with FakeHtmlSite(slow_seconds=10) as running:
        yield running


@pytest.fixture
def provider(site: FakeHtmlSite, http: HttpClient) -> HtmlProvider:
    return make_provider(HtmlProvider, site, http)


def a_series(site: FakeHtmlSite) -> FakeSeries:
    return site.catalog.series[0]


async def test_search_finds_the_title_with_its_lazy_cover(
    site: FakeHtmlSite, provider: HtmlProvider, http: HttpClient
) -> None:
    series = a_series(site)
    results = await provider.search(series.title)
    assert (results[0].title, results[0].external_id) == (series.title, series.slug)
    assert results[0].url == f"{site.url}/series/{series.slug}"
    assert results[0].cover_url == f"{site.url}/covers/{series.slug}.svg"
    assert results[0].status == series.status
    cover = await http.get("t", results[0].cover_url)
    assert cover.headers["content-type"].startswith("image/svg+xml")


async def test_search_without_matches_is_empty(provider: HtmlProvider) -> None:
    assert await provider.search("zzzz-nothing-like-this") == []


async def test_search_pages_and_limit(provider: HtmlProvider) -> None:
    first = await provider.search("a", page=1)
    second = await provider.search("a", page=2)
    assert len(first) == 12
    assert second
    assert not {r.external_id for r in first} & {r.external_id for r in second}
    assert len(await provider.search("a", limit=2)) == 2


async def test_details_read_every_configured_field(
    site: FakeHtmlSite, provider: HtmlProvider
) -> None:
    series = a_series(site)
    details = await provider.get_manga_details(series.slug)
    assert details.title == series.title
    assert details.alt_titles == list(series.alt_titles)
    assert details.description == series.description
    assert details.genres == list(series.genres)
    assert details.authors == list(series.authors)
    assert (details.status, details.year) == (series.status, series.year)
    # The srcset's widest candidate, not the small src.
    assert details.cover_url == f"{site.url}/covers/{series.slug}.svg"


async def test_chapters_in_reading_order_with_numbers_and_dates(
    site: FakeHtmlSite, provider: HtmlProvider
) -> None:
    series = a_series(site)
    chapters = await provider.get_chapters(series.slug)
    assert [c.number for c in chapters] == [c.number for c in series.chapters]
    assert [c.published_at for c in chapters] == [c.published_at for c in series.chapters]
    assert chapters[0].external_id == f"{series.slug}/{series.chapters[0].number}"


async def test_chapters_listed_newest_first_are_reversed(
    site: FakeHtmlSite, http: HttpClient
) -> None:
    chapters_block = {**site.definition()["chapters"], "order": "newest_first"}
    provider = make_provider(HtmlProvider, site, http, chapters=chapters_block)
    chapters = await provider.get_chapters(a_series(site).slug)
    assert [c.number for c in chapters] == [c.number for c in reversed(a_series(site).chapters)]


async def test_pages_read_the_configured_attribute(
    site: FakeHtmlSite, provider: HtmlProvider, http: HttpClient
) -> None:
    series = a_series(site)
    chapter = series.chapters[-1]
    pages = await provider.get_pages(f"{series.slug}/{chapter.number}")
    assert [p.index for p in pages] == list(range(1, chapter.pages + 1))
    assert pages[0].url == f"{site.url}/pages/{series.slug}/{chapter.number}/1.svg"
    assert (await http.get("t", pages[0].url)).status_code == 200


async def test_unknown_ids_are_unknown_manga(site: FakeHtmlSite, provider: HtmlProvider) -> None:
    with pytest.raises(UnknownManga):
        await provider.get_manga_details("no-such-series")
    with pytest.raises(UnknownManga):
        await provider.get_pages(f"{a_series(site).slug}/99999")
    with pytest.raises(UnknownManga):
        await provider.get_manga_details("../admin")


async def test_health_check_passes_with_keyword_and_canary(provider: HtmlProvider) -> None:
    result = await provider.health_check(TIMEOUT)
    assert (result.ok, result.error_kind) == (True, None)


@pytest.mark.parametrize(
    "health", [{"keyword": "series-grid"}, {"canary_query": "a"}], ids=["keyword", "canary"]
)
async def test_health_check_notices_a_changed_layout(
    site: FakeHtmlSite, http: HttpClient, health: dict[str, str]
) -> None:
    provider = make_provider(HtmlProvider, site, http, health=health)
    assert (await provider.health_check(TIMEOUT)).ok
    site.set_fault("layout")
    result = await provider.health_check(TIMEOUT)
    assert (result.ok, result.error_kind) == (False, "parse")


Operation = Callable[[HtmlProvider, FakeHtmlSite], Awaitable[object]]
OPERATIONS: dict[str, Operation] = {
    "search": lambda p, s: p.search("a"),
    "details": lambda p, s: p.get_manga_details(a_series(s).slug),
    "chapters": lambda p, s: p.get_chapters(a_series(s).slug),
    "pages": lambda p, s: p.get_pages(f"{a_series(s).slug}/{a_series(s).chapters[0].number}"),
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
    site: FakeHtmlSite, provider: HtmlProvider, operation: str, fault: str, kind: str
) -> None:
    site.set_fault(fault)
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        await OPERATIONS[operation](provider, site)
    assert caught.value.kind == kind
    assert time.monotonic() - started < site.slow_seconds  # given up, not waited out


@pytest.mark.parametrize(("fault", "kind"), FAULTS)
async def test_health_check_reports_every_fault(
    site: FakeHtmlSite, provider: HtmlProvider, fault: str, kind: str
) -> None:
    site.set_fault(fault)
    result = await provider.health_check(HUNG_TIMEOUT)
    assert (result.ok, result.error_kind) == (False, kind)


# -- validation and pure helpers ---------------------------------------------------------


def _params(site: FakeHtmlSite, **changes: Any) -> dict[str, Any]:
    definition = site.definition()
    params = {
        key: definition[key] for key in ("search_url", "search", "manga", "chapters", "pages")
    }
    for dotted, value in changes.items():
        block, _, field = dotted.partition("__")
        if field:
            params[block] = {**params[block], field: value}
        else:
            params[block] = value
    return params


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"search__item": "article["}, ("search", "item"), "invalid CSS selector"),
        ({"pages__image": "  "}, ("pages", "image"), "must not be empty"),
        ({"search_url": "/search?page={page}"}, ("search_url",), "must contain {query}"),
        ({"search_url": "/search?q={q}"}, ("search_url",), "unknown template field {q}"),
        ({"search_url": "search?q={query}"}, ("search_url",), "must start with '/'"),
        ({"manga__url": "/series/"}, ("manga", "url"), "must contain {id}"),
        ({"manga__id_pattern": "^/(a)/(b)$"}, ("manga", "id_pattern"), "one capturing group"),
        ({"chapters__number_regex": "(unclosed"}, ("chapters", "number_regex"), "regular"),
        ({"chapters__order": "random"}, ("chapters", "order"), "newest_first"),
        ({"pages__colour": "red"}, ("pages", "colour"), "Extra inputs"),
    ],
)
def test_params_are_validated_strictly(
    change: dict[str, Any], field: tuple[str, ...], message: str
) -> None:
    site = FakeHtmlSite()  # never started: only its definition is used
    with pytest.raises(ValidationError) as caught:
        HtmlParams.model_validate(_params(site, **change))
    errors = caught.value.errors()
    assert [e["loc"] for e in errors] == [field]
    assert message in errors[0]["msg"]


def test_ids_come_out_of_links_and_go_back_into_urls() -> None:
    pattern = r"^/series/([^/]+)/?$"
    assert id_from_link("https://s.test/series/the-blade/", site_url="https://s.test",
                        pattern=pattern) == "the-blade"  # fmt: skip
    # A site living under a path prefix: patterns see the path below it.
    assert id_from_link("https://s.test/comics/series/x", site_url="https://s.test/comics",
                        pattern=pattern) == "x"  # fmt: skip
    with pytest.raises(ParseFailure, match="id_pattern"):
        id_from_link("https://s.test/tags/x", site_url="https://s.test", pattern=pattern)
    assert fill_url("https://s.test", "/series/{id}/", "a b") == "https://s.test/series/a%20b/"
    with pytest.raises(UnknownManga):
        fill_url("https://s.test", "/read/{id}", "x/../../etc")
