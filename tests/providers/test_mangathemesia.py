"""The ``mangathemesia`` kind against the fake MangaThemesia site: search (novels left out),
details, chapters (locked ones left out), pages from the reader and from ``ts_reader.run``,
and the fault switches as error kinds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from kurobara.providers.errors import ParseFailure, UnknownManga
from kurobara.providers.fakes.catalog import FakeSeries
from kurobara.providers.fakes.mangathemesia import FakeMangaThemesiaSite, chapter_slug
from kurobara.providers.http import HttpClient
from kurobara.providers.mangathemesia import (
    MangaThemesiaParams,
    MangaThemesiaProvider,
    parse_chapter_list,
    script_images,
)
from kurobara.providers.scraping import parse_html
from tests.providers.conftest import HUNG_TIMEOUT, make_provider


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMangaThemesiaSite]:
    with FakeMangaThemesiaSite(slow_seconds=5) as running:
        yield running


@pytest.fixture(autouse=True)
def reset(site: FakeMangaThemesiaSite) -> Iterator[None]:
    yield
    site.set_fault("ok")
    for name, values in site.VARIANTS.items():
        site.set_variant(name, values[0])


@pytest.fixture
def provider(site: FakeMangaThemesiaSite, http: HttpClient) -> MangaThemesiaProvider:
    return make_provider(MangaThemesiaProvider, site, http)


def a_comic(site: FakeMangaThemesiaSite) -> FakeSeries:
    return next(s for s in site.catalog.series if not site.is_novel(s) and len(s.chapters) > 2)


async def test_search_finds_the_title_with_its_cover(
    site: FakeMangaThemesiaSite, provider: MangaThemesiaProvider
) -> None:
    series = a_comic(site)
    results = await provider.search(series.title)
    assert results[0].external_id == series.slug
    assert results[0].title == series.title
    assert results[0].cover_url == f"{site.url}/wp-content/uploads/covers/{series.slug}.svg"


async def test_search_leaves_novels_out_and_pages(
    site: FakeMangaThemesiaSite, provider: MangaThemesiaProvider
) -> None:
    novel = next(s for s in site.catalog.series if site.is_novel(s))
    assert novel.slug not in {r.external_id for r in await provider.search(novel.title)}
    first, second = await provider.search("a", page=1), await provider.search("a", page=2)
    assert first
    assert not {r.external_id for r in first} & {r.external_id for r in second}
    assert await provider.search("zzzz-nothing-like-this") == []
    assert await provider.search("a", page=99) == []
    with pytest.raises(UnknownManga, match="novel"):
        await provider.get_manga_details(novel.slug)


async def test_details_read_the_series_page(
    site: FakeMangaThemesiaSite, provider: MangaThemesiaProvider
) -> None:
    series = a_comic(site)
    details = await provider.get_manga_details(series.slug)
    assert details.title == series.title
    assert details.genres == list(series.genres)
    assert details.status == series.status
    assert details.year == series.year
    assert details.authors == list(series.authors)
    assert details.alt_titles == list(series.alt_titles)
    assert details.description
    assert details.cover_url == f"{site.url}/wp-content/uploads/covers/{series.slug}.svg"


async def test_chapters_oldest_first_and_locked_left_out(
    site: FakeMangaThemesiaSite, provider: MangaThemesiaProvider
) -> None:
    series = a_comic(site)
    chapters = await provider.get_chapters(series.slug)
    assert [c.number for c in chapters] == [c.number for c in series.chapters]
    assert [c.published_at for c in chapters] == [c.published_at for c in series.chapters]
    assert chapters[0].external_id == chapter_slug(series, series.chapters[0])
    site.set_variant("premium", "latest")
    locked = await provider.get_chapters(series.slug)
    assert [c.number for c in locked] == [c.number for c in series.chapters[:-1]]


@pytest.mark.parametrize("variant", ["html", "script"])
async def test_pages_from_the_reader_or_the_script(
    site: FakeMangaThemesiaSite, provider: MangaThemesiaProvider, http: HttpClient, variant: str
) -> None:
    site.set_variant("pages", variant)
    series = a_comic(site)
    chapter = series.chapters[0]
    pages = await provider.get_pages(chapter_slug(series, chapter))
    assert [p.index for p in pages] == list(range(1, chapter.pages + 1))
    image = await http.get("t", pages[0].url)
    assert image.headers["content-type"].startswith("image/svg+xml")


async def test_unknown_ids_are_unknown_manga(provider: MangaThemesiaProvider) -> None:
    with pytest.raises(UnknownManga):
        await provider.get_manga_details("no-such-series")
    with pytest.raises(UnknownManga):
        await provider.get_pages("no-such-chapter")
    with pytest.raises(UnknownManga):
        await provider.get_pages("../wp-admin")


async def test_health_check_and_a_changed_layout(
    site: FakeMangaThemesiaSite, provider: MangaThemesiaProvider
) -> None:
    assert (await provider.health_check(timeout=2)).ok
    site.set_fault("layout")
    result = await provider.health_check(timeout=2)
    assert not result.ok
    assert result.error_kind == "parse"
    with pytest.raises(ParseFailure):
        await provider.get_chapters(a_comic(site).slug)


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("error", "http_status"), ("challenge", "bot_challenge"), ("slow", "timeout")],
)
async def test_faults_are_their_error_kinds(
    site: FakeMangaThemesiaSite, provider: MangaThemesiaProvider, fault: str, kind: str
) -> None:
    site.set_fault(fault)
    result = await provider.health_check(timeout=HUNG_TIMEOUT)
    assert result.error_kind == kind


def test_chapter_list_in_another_language_and_the_coin_modal() -> None:
    page = """<div id="chapterlist"><ul>
      <li data-num="2"><a href="https://s.test/x-chapitre-2/"><span class="chapternum">Chapitre 2
        </span><span class="chapterdate">15 janvier 2024</span></a>
        <a data-bs-target="#lockedChapterModal">coins</a></li>
      <li data-num="1"><a href="https://s.test/x-chapitre-1/"><span class="chapternum">Chapitre 1
        </span><span class="chapterdate">3 janvier 2024</span></a></li></ul></div>"""
    chapters, skipped = parse_chapter_list(
        parse_html(page, what="t"), page_url="https://s.test/manga/x/",
        params=MangaThemesiaParams(), language="fr",
    )  # fmt: skip
    assert [(c.external_id, c.number) for c in chapters] == [("x-chapitre-1", "1")]
    assert chapters[0].published_at == datetime(2024, 1, 3, tzinfo=UTC)
    assert skipped == [("Chapitre 2", "locked chapter (coins or lock icon)")]


@pytest.mark.parametrize(
    ("data_num", "locked"), [("3 \N{LOCK}", True), ("\N{LOCK}3", True), ("3", False)]
)
def test_a_lock_in_the_rows_number_leaves_the_chapter_out(data_num: str, locked: bool) -> None:
    page = f"""<div id="chapterlist"><ul>
      <li data-num="{data_num}"><a href="https://s.test/x-chapter-3/"><span class="chapternum">
        Chapter 3</span></a></li></ul></div>"""
    chapters, skipped = parse_chapter_list(
        parse_html(page, what="t"), page_url="https://s.test/series/x/",
        params=MangaThemesiaParams(manga_path="series"),
    )  # fmt: skip
    assert [c.external_id for c in chapters] == ([] if locked else ["x-chapter-3"])
    assert skipped == ([("Chapter 3", "locked chapter (lock in its number)")] if locked else [])


def test_script_images_read_the_first_source() -> None:
    html = 'x<script>ts_reader.run({"sources":[{"images":["a.jpg","b.jpg"]}]});</script>'
    assert script_images(html) == ["a.jpg", "b.jpg"]
    assert script_images("<p>no script</p>") is None
    with pytest.raises(ParseFailure):
        script_images("ts_reader.run({broken")
