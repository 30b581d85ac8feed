"""Kind ``mangathemesia``: sites running the WordPress "MangaThemesia" theme (formerly
WP MangaStream / WP MangaReader), the second most common scanlation theme after Madara.

The theme's shape: search at ``/<manga_path>/?title=QUERY&page=N`` (result cards
``.listupd .bs .bsx``, novels marked by ``span.novelabel`` and left out), a series at
``/<manga_path>/<slug>/`` (``h1.entry-title``, ``.tsinfo .imptdt`` or ``.infotable`` rows, the
chapter list ``#chapterlist li``), and each chapter at the site's root ``/<chapter slug>/``, its
images in ``#readerarea`` or, on sites that inject them by script, in the JSON handed to
``ts_reader.run({...})`` (``sources[0].images``). Chapters behind the theme's coin modal
(``a[data-bs-target='#lockedChapterModal']``) or a lock icon are left out. External ids are the
series slug and the chapter slug.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from selectolax.lexbor import LexborHTMLParser, LexborNode

from kurobara.providers.base import (
    LATEST,
    POPULAR,
    Chapter,
    MangaDetails,
    Page,
    Provider,
    SearchResult,
    UnsupportedListing,
)
from kurobara.providers.definitions import ProviderDefinition
from kurobara.providers.errors import HTTPStatusFailure, ParseFailure, UnknownManga
from kurobara.providers.http import HttpClient
from kurobara.providers.madara import CookieName, HeaderName, HeaderValue, split_names
from kurobara.providers.scraping import (
    DEFAULT_CHAPTER_NUMBER_REGEX,
    NSFW_GENRES,
    absolute_url,
    all_texts,
    chapter_number,
    check_regex,
    check_selector,
    image_url,
    link_url,
    normalize_status,
    paragraphs,
    parse_html,
    parse_site_date,
    request_headers,
    text_of,
    url_path,
    year_of,
)

Selector = Annotated[str, AfterValidator(check_selector)]
Regex = Annotated[str, AfterValidator(check_regex)]

logger = logging.getLogger(__name__)

# Labels of the info rows ("Status Ongoing", "Type Manhwa"), lower case, matched as prefixes.
_LABELS: dict[str, tuple[str, ...]] = {
    "status": ("status", "statut", "estado", "durum", "stato", "الحالة"),
    "type": ("type", "tipe", "tipo", "türü", "النوع"),
    "author": ("author", "auteur", "autor", "yazar", "pengarang", "المؤلف"),
    "released": ("released", "release", "year", "lanzamiento", "rilis"),
}
_SCRIPT_START = re.compile(r"ts_reader\.run\(\s*")
_LOCK_MARK = "\N{LOCK}"


class MangaThemesiaSelectors(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    search_container: Selector = ".listupd, .postbody"
    search_item: Selector = ".listupd .bs .bsx, .utao .uta .imgu, .listo .bs .bsx"
    search_title: Selector = ".bigor .tt, h3 a"
    search_novel: Selector = "span.novelabel"
    details: Selector = "div.bigcontent, div.animefull, div.main-info, div.postbody"
    title: Selector = "h1.entry-title, .ts-breadcrumb li:last-child span"
    cover: Selector = ".thumb img, .infomanga > div[itemprop=image] img"
    description: Selector = ".entry-content[itemprop=description], .desc"
    genres: Selector = ".mgen a, div.gnr a, .seriestugenre a"
    alt_titles: Selector = ".alternative, .seriestualt, .wd-full .alter"
    info_row: Selector = ".tsinfo .imptdt, .infotable tr, .fmed"
    chapter_list: Selector = "#chapterlist, div.bxcl, div.cl"
    chapter_item: Selector = "#chapterlist li, div.bxcl li, div.cl li"
    chapter_title: Selector = ".chapternum, .lch a"
    chapter_date: Selector = ".chapterdate"
    chapter_locked: Selector = "a[data-bs-target='#lockedChapterModal'], .fa-lock, .lock-icon"
    reader: Selector = "#readerarea"
    page_image: Selector = "img"


class MangaThemesiaParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    manga_path: str = Field(default="manga", pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
    date_format: str = Field(default="%B %d, %Y", min_length=2, max_length=50)
    date_language: str | None = Field(default=None, min_length=2, max_length=10)
    chapter_number_regex: Regex = DEFAULT_CHAPTER_NUMBER_REGEX
    cookies: dict[CookieName, HeaderValue] = Field(default_factory=dict, max_length=20)
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=20)
    selectors: MangaThemesiaSelectors = MangaThemesiaSelectors()


# -- parsing (pure) ------------------------------------------------------------------------


def series_slug(url: str, manga_path: str) -> str:
    prefix = f"/{manga_path}/"
    path = url_path(url).split("?", 1)[0]
    rest = path[len(prefix) :].strip("/") if path.startswith(prefix) else ""
    if not rest or "/" in rest:
        raise ParseFailure(f"link {url} is not a series under {prefix} (check manga_path)")
    return rest


def chapter_slug(url: str) -> str:
    path = url_path(url).split("?", 1)[0].strip("/")
    if not path:
        raise ParseFailure(f"chapter link {url} has no path")
    return path


def parse_search_page(
    tree: LexborHTMLParser,
    *,
    page_url: str,
    params: MangaThemesiaParams,
    provider_id: str,
    nsfw: bool,
) -> list[SearchResult]:
    sel = params.selectors
    if tree.css_first(sel.search_container) is None:
        raise ParseFailure("search page has no result list (layout changed?)")
    results: dict[str, SearchResult] = {}
    for item in tree.css(sel.search_item):
        if item.css_first(sel.search_novel) is not None:
            continue  # a light novel: text, nothing to read as pages
        link = link_url(item, page_url)
        title = text_of(item.css_first(sel.search_title))
        anchor = item.css_first("a[title]")
        title = title or ((anchor.attributes.get("title") or "").strip() if anchor else "")
        if link is None or not title:
            raise ParseFailure("search result without a title link (layout changed?)")
        slug = series_slug(link, params.manga_path)
        results.setdefault(
            slug,
            SearchResult(
                provider_id=provider_id,
                external_id=slug,
                title=title,
                url=link,
                cover_url=image_url(item.css_first("img"), page_url),
                nsfw=nsfw,
            ),
        )
    return list(results.values())


def info_rows(root: LexborNode, sel: MangaThemesiaSelectors) -> dict[str, str]:
    """The labelled rows ("Status Ongoing", a table's "Type | Manhwa") by our label key."""
    rows: dict[str, str] = {}
    for row in root.css(sel.info_row):
        cells = row.css("td")
        if len(cells) >= 2:
            label, value = text_of(cells[0]), text_of(cells[-1])
        else:
            heading = row.css_first("h1, b")
            value_node = row.css_first("i, a, span, time")
            label = text_of(heading) if heading is not None else text_of(row)
            value = text_of(value_node) if value_node is not None else ""
            if heading is None and value:
                label = label.replace(value, "").strip()
        label = label.lower().rstrip(": ")
        for key, labels in _LABELS.items():
            if key not in rows and label.startswith(labels) and value:
                rows[key] = value
    return rows


def parse_series_page(
    tree: LexborHTMLParser,
    *,
    page_url: str,
    params: MangaThemesiaParams,
    provider_id: str,
    external_id: str,
    nsfw: bool,
) -> MangaDetails:
    sel = params.selectors
    root = tree.css_first(sel.details)
    title = text_of(root.css_first(sel.title)) if root is not None else ""
    if root is None or not title:
        raise ParseFailure(f"series page has no title at {sel.title!r} (layout changed?)")
    rows = info_rows(root, sel)
    if rows.get("type", "").lower() in ("novel", "light novel", "web novel"):
        raise UnknownManga(f"{external_id} is a novel, not a comic", status_code=404)
    genres = all_texts(root, sel.genres)
    return MangaDetails(
        provider_id=provider_id,
        external_id=external_id,
        title=title,
        alt_titles=split_names(text_of(root.css_first(sel.alt_titles))),
        description=paragraphs(root.css_first(sel.description)),
        cover_url=image_url(root.css_first(sel.cover), page_url),
        status=normalize_status(rows.get("status")),
        year=year_of(rows.get("released")),
        genres=genres,
        authors=split_names(rows.get("author", "")) if rows.get("author", "-") != "-" else [],
        nsfw=nsfw or any(g.lower() in NSFW_GENRES for g in genres),
        url=page_url,
    )


def parse_chapter_list(
    tree: LexborHTMLParser,
    *,
    page_url: str,
    params: MangaThemesiaParams,
    language: str | None = None,
    now: datetime | None = None,
) -> tuple[list[Chapter], list[tuple[str, str]]]:
    """Chapters oldest first (the theme lists newest first), and the locked ones left out."""
    sel = params.selectors
    if tree.css_first(sel.chapter_list) is None:
        raise ParseFailure("series page has no chapter list (layout changed?)")
    now = now or datetime.now(UTC)
    chapters: dict[str, Chapter] = {}
    skipped: list[tuple[str, str]] = []
    for item in tree.css(sel.chapter_item):
        title = text_of(item.css_first(sel.chapter_title)) or text_of(item.css_first("a"))
        if item.css_first(sel.chapter_locked) is not None:
            skipped.append((title, "locked chapter (coins or lock icon)"))
            continue
        if _LOCK_MARK in (item.attributes.get("data-num") or ""):
            # Sites like Razure mark a coin chapter in the row's own number ("12 🔒").
            skipped.append((title, "locked chapter (lock in its number)"))
            continue
        link = link_url(item, page_url)
        if link is None:
            raise ParseFailure("chapter entry without a link (layout changed?)")
        chapter_id = chapter_slug(link)
        number = item.attributes.get("data-num") or title or chapter_id
        chapters.setdefault(
            chapter_id,
            Chapter(
                external_id=chapter_id,
                number=chapter_number(number, params.chapter_number_regex),
                title=title or None,
                published_at=parse_site_date(
                    text_of(item.css_first(sel.chapter_date)),
                    params.date_format,
                    params.date_language or language,
                    now=now,
                ),
                url=link,
            ),
        )
    return list(reversed(chapters.values())), skipped


def script_images(html: str) -> list[str] | None:
    """``sources[0].images`` of the ``ts_reader.run({...})`` call; ``None`` without one."""
    match = _SCRIPT_START.search(html)
    if match is None:
        return None
    try:
        data, _ = json.JSONDecoder().raw_decode(html, match.end())
    except ValueError as exc:
        raise ParseFailure(f"ts_reader.run() data is not JSON: {exc}") from exc
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, list) or not sources or not isinstance(sources[0], dict):
        raise ParseFailure("ts_reader.run() data has no image sources")
    images = sources[0].get("images")
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise ParseFailure("ts_reader.run() data has no image list")
    return images


def parse_reader_page(
    html: str, tree: LexborHTMLParser, *, page_url: str, params: MangaThemesiaParams
) -> list[Page]:
    sel = params.selectors
    reader = tree.css_first(sel.reader)
    if reader is None:
        raise ParseFailure(f"chapter page has no reader at {sel.reader!r} (layout changed?)")
    urls = [image_url(img, page_url) for img in reader.css(sel.page_image)]
    if not any(urls):
        urls = [absolute_url(page_url, u) for u in script_images(html) or []]
    unique = list(dict.fromkeys(u for u in urls if u))
    if not unique:
        raise ParseFailure("chapter page has no images")
    return [Page(index=i, url=url) for i, url in enumerate(unique, start=1)]


# -- the provider --------------------------------------------------------------------------


def _segment(value: str, what: str) -> str:
    value = value.strip().strip("/")
    if not value or "/" in value or value in (".", "..") or not re.fullmatch(r"[^?#\s]+", value):
        raise UnknownManga(f"not a valid {what}: {value!r}")
    return value


class MangaThemesiaProvider(Provider):
    kind = "mangathemesia"
    Params = MangaThemesiaParams
    params: MangaThemesiaParams

    def __init__(self, definition: ProviderDefinition, http: HttpClient) -> None:
        super().__init__(definition, http)
        self._extra_headers = request_headers(self.params.cookies, self.params.headers)

    def series_url(self, slug: str) -> str:
        return f"{self.url}/{self.params.manga_path}/{_segment(slug, 'series slug')}/"

    def image_headers(self) -> dict[str, str]:
        return {**self._extra_headers, **super().image_headers()}

    async def _get(self, url: str, *, what: str, params: dict[str, str] | None = None) -> str:
        try:
            response = await self.http.get(self.id, url, params=params, headers=self._extra_headers)
        except HTTPStatusFailure as exc:
            if exc.status_code in (404, 410):
                raise UnknownManga(f"{what} not found at {url}", status_code=404) from exc
            raise
        return response.text

    async def search(self, query: str, *, page: int = 1, limit: int = 20) -> list[SearchResult]:
        url = f"{self.url}/{self.params.manga_path}/"
        try:
            text = await self._get(
                url, what="search page", params={"title": query, "page": str(max(1, page))}
            )
        except UnknownManga:
            if page > 1:
                return []
            raise ParseFailure(f"no search page at {url} (check manga_path)") from None
        tree = parse_html(text, what="search page")
        results = parse_search_page(
            tree, page_url=url, params=self.params, provider_id=self.id,
            nsfw=self.definition.nsfw,
        )  # fmt: skip
        return results[:limit]

    listings = (POPULAR, LATEST)
    _ORDER = {POPULAR: "popular", LATEST: "update"}

    async def browse(self, listing: str, *, page: int = 1, limit: int = 20) -> list[SearchResult]:
        """The theme's series list: ``/<manga_path>/?order=popular|update&page=N``, the same
        cards as a search."""
        order = self._ORDER.get(listing)
        if order is None:
            raise UnsupportedListing(self.id, listing)
        url = f"{self.url}/{self.params.manga_path}/"
        try:
            text = await self._get(
                url, what=f"{listing} list", params={"order": order, "page": str(max(1, page))}
            )
        except UnknownManga:
            if page > 1:
                return []
            raise ParseFailure(f"no series list at {url} (check manga_path)") from None
        tree = parse_html(text, what=f"{listing} list")
        results = parse_search_page(
            tree, page_url=url, params=self.params, provider_id=self.id,
            nsfw=self.definition.nsfw,
        )  # fmt: skip
        return results[:limit]

    async def get_manga_details(self, external_id: str) -> MangaDetails:
        url = self.series_url(external_id)
        tree = parse_html(await self._get(url, what="series"), what="series")
        return parse_series_page(
            tree, page_url=url, params=self.params, provider_id=self.id,
            external_id=external_id.strip().strip("/"), nsfw=self.definition.nsfw,
        )  # fmt: skip

    async def get_chapters(self, external_id: str) -> list[Chapter]:
        url = self.series_url(external_id)
        tree = parse_html(await self._get(url, what="series"), what="series")
        chapters, skipped = parse_chapter_list(
            tree, page_url=url, params=self.params, language=self.definition.language
        )
        for title, reason in skipped:
            logger.info("chapter left out provider=%s chapter=%r reason=%s", self.id, title, reason)
        return chapters

    async def get_pages(self, chapter_id: str) -> list[Page]:
        url = f"{self.url}/{_segment(chapter_id, 'chapter id')}/"
        html = await self._get(url, what="chapter")
        return parse_reader_page(
            html, parse_html(html, what="chapter"), page_url=url, params=self.params
        )
