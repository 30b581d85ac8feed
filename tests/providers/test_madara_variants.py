"""The ``madara`` kind against the fake Madara site switched through the variants real Madara
installs show (``FakeMadaraSite.VARIANTS``): where the chapter list lives and which AJAX
endpoint answers, relative and Spanish dates, lazy image attributes, gallery and ``.text-left``
readers, the chapter protector, premium chapters, an age gate, and "load more" search."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from kurobara.providers.cryptojs import cryptojs_decrypt, cryptojs_encrypt
from kurobara.providers.errors import ParseFailure
from kurobara.providers.fakes.catalog import FakeSeries
from kurobara.providers.fakes.madara import AGE_COOKIE, FakeMadaraSite, chapter_slug
from kurobara.providers.http import HttpClient
from kurobara.providers.madara import (
    MadaraParams,
    MadaraProvider,
    decrypt_protected_pages,
    parse_chapter_list,
)
from kurobara.providers.scraping import parse_html
from tests.providers.conftest import TIMEOUT, make_provider


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite(name="fake-madara-variants", slow_seconds=5) as running:
        yield running


@pytest.fixture(autouse=True)
def default_variants(site: FakeMadaraSite) -> Iterator[None]:
    yield
    for name, values in site.VARIANTS.items():
        site.set_variant(name, values[0])


def a_series(site: FakeMadaraSite) -> FakeSeries:
    return next(s for s in site.catalog.series if len(s.chapters) >= 4)


async def test_old_endpoint_only_falls_back_once_and_is_remembered(
    site: FakeMadaraSite, http: HttpClient
) -> None:
    site.set_variant("chapters", "ajax_old")
    provider = make_provider(MadaraProvider, site, http)  # tries the new endpoint first
    series = a_series(site)
    first = await provider.get_chapters(series.slug)
    assert [c.number for c in first] == [c.number for c in series.chapters]
    assert provider.chapters_endpoint == "old"
    before = site.requests
    again = await provider.get_chapters(series.slug)
    assert again == first
    assert site.requests - before == 2  # the series page and the old endpoint, nothing refused


async def test_new_endpoint_only_after_old_is_refused(
    site: FakeMadaraSite, http: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, site, http, chapters_endpoint="old")
    series = a_series(site)
    assert len(await provider.get_chapters(series.slug)) == len(series.chapters)
    assert provider.chapters_endpoint == "new"


async def test_chapters_in_the_page_need_no_ajax(site: FakeMadaraSite, http: HttpClient) -> None:
    site.set_variant("chapters", "html")
    provider = make_provider(MadaraProvider, site, http)
    before = site.requests
    chapters = await provider.get_chapters(a_series(site).slug)
    assert chapters
    assert site.requests - before == 1


async def test_relative_dates_and_the_new_badge(site: FakeMadaraSite, http: HttpClient) -> None:
    site.set_variant("dates", "relative")
    provider = make_provider(MadaraProvider, site, http)
    series = a_series(site)
    started = datetime.now(UTC)
    chapters = await provider.get_chapters(series.slug)
    newest, second, third = chapters[-1], chapters[-2], chapters[-3]
    assert newest.published_at is not None
    assert second.published_at is not None
    assert third.published_at is not None
    # "2 hours ago" on the badge, "yesterday", "3 days ago".
    assert abs(newest.published_at - (started - timedelta(hours=2))) < timedelta(minutes=5)
    assert abs(second.published_at - (started - timedelta(days=1))) < timedelta(minutes=5)
    assert abs(third.published_at - (started - timedelta(days=3))) < timedelta(minutes=5)
    # Older chapters keep their absolute dates.
    assert chapters[0].published_at == series.chapters[0].published_at


async def test_spanish_month_names_and_relative_dates(
    site: FakeMadaraSite, http: HttpClient
) -> None:
    site.set_variant("dates", "spanish")
    provider = make_provider(MadaraProvider, site, http, language="es")
    series = a_series(site)
    started = datetime.now(UTC)
    chapters = await provider.get_chapters(series.slug)
    assert chapters[0].published_at is not None
    assert chapters[0].published_at.date() == series.chapters[0].published_at.date()
    second = chapters[-2].published_at  # "hace 4 días"
    assert second is not None
    assert abs(second - (started - timedelta(days=4))) < timedelta(minutes=5)


@pytest.mark.parametrize("attribute", FakeMadaraSite.VARIANTS["images"])
@pytest.mark.parametrize("reader", ["page-break", "gallery", "text-left", "protected"])
async def test_pages_from_every_reader_and_lazy_attribute(
    site: FakeMadaraSite, http: HttpClient, reader: str, attribute: str
) -> None:
    site.set_variant("reader", reader)
    site.set_variant("images", attribute)
    provider = make_provider(MadaraProvider, site, http)
    series = a_series(site)
    chapter = series.chapters[0]
    pages = await provider.get_pages(f"{series.slug}/{chapter_slug(chapter)}")
    assert [p.url for p in pages] == [
        f"{site.url}/wp-content/uploads/WP-manga/data/{series.slug}/{chapter_slug(chapter)}/{n}.svg"
        for n in range(1, chapter.pages + 1)
    ]


async def test_protected_chapter_without_its_key_says_protected(
    site: FakeMadaraSite, http: HttpClient
) -> None:
    site.set_variant("reader", "protected-nokey")
    provider = make_provider(MadaraProvider, site, http)
    series = a_series(site)
    with pytest.raises(ParseFailure, match="protected"):
        await provider.get_pages(f"{series.slug}/{chapter_slug(series.chapters[0])}")


async def test_premium_chapters_are_left_out(site: FakeMadaraSite, http: HttpClient) -> None:
    site.set_variant("premium", "latest")
    provider = make_provider(MadaraProvider, site, http)
    series = a_series(site)
    chapters = await provider.get_chapters(series.slug)
    assert [c.number for c in chapters] == [c.number for c in series.chapters[:-1]]


async def test_age_gate_needs_the_definitions_cookie(
    site: FakeMadaraSite, http: HttpClient
) -> None:
    site.set_variant("age_gate", "on")
    series = a_series(site)
    without = make_provider(MadaraProvider, site, http, id="gate-without")
    with pytest.raises(ParseFailure):
        await without.get_manga_details(series.slug)
    # A fresh client: the cookie must come from the definition, not from a jar.
    fresh = HttpClient(user_agent="kurobara-tests", timeout=TIMEOUT)
    try:
        gated = make_provider(
            MadaraProvider, site, fresh, id="gate-with", cookies={AGE_COOKIE: "1"},
            headers={"X-Custom": "yes"},
        )  # fmt: skip
        assert (await gated.get_manga_details(series.slug)).title == series.title
        assert await gated.get_chapters(series.slug)
        chapter = series.chapters[0]
        assert await gated.get_pages(f"{series.slug}/{chapter_slug(chapter)}")
        assert gated.image_headers()["X-Custom"] == "yes"
    finally:
        await fresh.aclose()


async def test_load_more_search_pages_through_the_ajax_action(
    site: FakeMadaraSite, http: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, site, http, search_mode="load_more")
    series = a_series(site)
    assert (await provider.search(series.title))[0].external_id == series.slug
    first, second = await provider.search("a", page=1), await provider.search("a", page=2)
    assert len(first) == 10
    assert second
    assert not {r.external_id for r in first} & {r.external_id for r in second}
    assert await provider.search("a", page=99) == []


async def test_chapter_url_suffix_is_configurable(site: FakeMadaraSite, http: HttpClient) -> None:
    provider = make_provider(MadaraProvider, site, http, chapter_url_suffix="")
    series = a_series(site)
    assert await provider.get_pages(f"{series.slug}/{chapter_slug(series.chapters[0])}")


# -- pure parsing on markup shaped like real installs --------------------------------------


def test_locked_chapters_are_skipped_with_their_reason() -> None:
    page = """<ul class="version-chap">
      <li class="wp-manga-chapter premium-block"><a href="/manga/x/chapter-3/">Chapter 3</a></li>
      <li class="wp-manga-chapter"><a href="/manga/x/chapter-2/"><i class="fas fa-lock"></i>
        Chapter 2</a></li>
      <li class="wp-manga-chapter"><a href="/manga/x/chapter-1/">Chapter 1</a>
        <span class="chapter-release-date"><i>March 5, 2024</i></span></li></ul>"""
    listing = parse_chapter_list(
        parse_html(page, what="t"), page_url="https://s.test/manga/x/", params=MadaraParams()
    )
    assert [c.number for c in listing.chapters] == ["1"]
    assert listing.chapters[0].published_at == datetime(2024, 3, 5, tzinfo=UTC)
    assert [reason for _, reason in listing.skipped] == [
        "premium chapter (premium-block)",
        "locked chapter (lock icon)",
    ]


def test_protector_data_decrypts_as_the_plugin_encrypts() -> None:
    urls = ["https://cdn.test/1.jpg", "https://cdn.test/2.jpg"]
    salt = bytes(range(8))
    sealed = cryptojs_encrypt(json.dumps(json.dumps(urls)), salt, b"nonce")
    data = json.dumps({"ct": base64.b64encode(sealed).decode(), "iv": "", "s": salt.hex()})
    escaped = data.replace("/", "\\/")  # as PHP's json_encode writes slashes
    script = f"var wpmangaprotectornonce='nonce';var chapter_data='{escaped}';"
    assert decrypt_protected_pages(script) == urls
    wrong = script.replace("'nonce'", "'other'")
    with pytest.raises(ParseFailure, match="protected"):
        decrypt_protected_pages(wrong)
    assert cryptojs_decrypt(sealed, salt, b"nonce") == json.dumps(json.dumps(urls))
