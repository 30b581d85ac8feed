"""Kind ``madara``: sites running the WordPress "Madara" manga theme.

The theme's shape: search at ``/?s=QUERY&post_type=wp-manga`` (``/page/N/`` for more), a series
at ``/<manga_path>/<slug>/``, its chapter list from the theme's AJAX endpoint (newer sites
``POST /<manga_path>/<slug>/ajax/chapters/``, older ones ``POST /wp-admin/admin-ajax.php`` with
``action=manga_get_chapters&manga=<post id>``), and a chapter's images in
``.reading-content .page-break img``. External ids are the series slug and
``<slug>/<chapter slug>``. A page without the expected structure is a ``ParseFailure``: that is
how a changed layout shows up in health checks.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from selectolax.lexbor import LexborHTMLParser, LexborNode

from kurobara.providers.base import Chapter, MangaDetails, Page, Provider, SearchResult
from kurobara.providers.errors import HTTPStatusFailure, ParseFailure, UnknownManga
from kurobara.providers.scraping import (
    DEFAULT_CHAPTER_NUMBER_REGEX,
    NSFW_GENRES,
    all_texts,
    chapter_number,
    check_regex,
    check_selector,
    image_url,
    link_url,
    normalize_status,
    paragraphs,
    parse_date,
    parse_html,
    text_of,
    url_path,
    year_of,
)

Selector = Annotated[str, AfterValidator(check_selector)]
Regex = Annotated[str, AfterValidator(check_regex)]

# Labels of the theme's "post-content_item" rows (lower case, matched as prefixes) in the
# languages Madara sites most often use.
_LABELS: dict[str, tuple[str, ...]] = {
    "status": ("status", "statut", "estado", "stato", "durum", "статус", "tình trạng"),
    "alt": ("alternative", "alt", "other name", "nomes alternativos", "otros nombres"),
    "author": ("author", "auteur", "autor", "autore", "yazar"),
    "release": ("release", "année", "lanzamiento", "lançamento", "year"),
}
_READER_QUERY = {"style": "list"}  # the theme's "list" reading style puts every image on one page


class MadaraSelectors(BaseModel):
    """The theme's markup; override one when a site's child theme renames something."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    search_container: Selector = ".c-tabs-item, .tab-content-wrap, .search-wrap"
    search_item: Selector = ".c-tabs-item__content"
    search_title: Selector = ".post-title a"
    search_cover: Selector = ".tab-thumb img"
    search_status: Selector = ".mg_status .summary-content"
    title: Selector = ".post-title h1"
    cover: Selector = ".summary_image img"
    description: Selector = ".description-summary .summary__content, .summary__content"
    genres: Selector = ".genres-content a"
    info_item: Selector = ".post-content_item"
    info_heading: Selector = ".summary-heading"
    info_value: Selector = ".summary-content"
    chapter_list: Selector = ".listing-chapters_wrap, ul.version-chap, .page-content-listing"
    chapter_item: Selector = "li.wp-manga-chapter"
    chapter_link: Selector = "a"
    chapter_date: Selector = ".chapter-release-date"
    reader: Selector = ".reading-content"
    page_image: Selector = ".page-break img"


class MadaraParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    manga_path: str = Field(default="manga", pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
    chapters_endpoint: Literal["new", "old"] = "new"
    date_format: str = Field(default="%B %d, %Y", min_length=2, max_length=50)
    chapter_number_regex: Regex = DEFAULT_CHAPTER_NUMBER_REGEX
    selectors: MadaraSelectors = MadaraSelectors()


# -- parsing (pure) ------------------------------------------------------------------------


def slug_from_url(url: str, manga_path: str) -> str:
    """``https://site/manga/the-blade/`` → ``the-blade``."""
    prefix = f"/{manga_path}/"
    path = url_path(url).split("?", 1)[0]
    if not path.startswith(prefix) or not path[len(prefix) :].strip("/"):
        raise ParseFailure(f"link {url} is not a series under {prefix} (check manga_path)")
    return path[len(prefix) :].strip("/").split("/", 1)[0]


def chapter_id_from_url(url: str, manga_path: str) -> str:
    """``https://site/manga/the-blade/chapter-10/?style=list`` → ``the-blade/chapter-10``."""
    prefix = f"/{manga_path}/"
    path = url_path(url).split("?", 1)[0]
    rest = path[len(prefix) :].strip("/") if path.startswith(prefix) else ""
    if rest.count("/") != 1:
        raise ParseFailure(f"chapter link {url} is not under {prefix}<series>/ (check manga_path)")
    return rest


def parse_search_page(
    tree: LexborHTMLParser, *, page_url: str, params: MadaraParams, provider_id: str, nsfw: bool
) -> list[SearchResult]:
    sel = params.selectors
    if tree.css_first(sel.search_container) is None and not tree.css(sel.search_item):
        raise ParseFailure("search page has no result list (layout changed?)")
    results: dict[str, SearchResult] = {}
    for item in tree.css(sel.search_item):
        anchor = item.css_first(sel.search_title)
        link = link_url(anchor, page_url)
        title = text_of(anchor)
        if link is None or not title:
            raise ParseFailure("search result without a title link (layout changed?)")
        slug = slug_from_url(link, params.manga_path)
        results.setdefault(
            slug,
            SearchResult(
                provider_id=provider_id,
                external_id=slug,
                title=title,
                url=link,
                cover_url=image_url(item.css_first(sel.search_cover), page_url),
                status=normalize_status(text_of(item.css_first(sel.search_status))),
                nsfw=nsfw,
            ),
        )
    return list(results.values())


def info_rows(tree: LexborHTMLParser, sel: MadaraSelectors) -> dict[str, LexborNode]:
    """The series page's labelled rows ("Status", "Alternative", ...) by our label key."""
    rows: dict[str, LexborNode] = {}
    for item in tree.css(sel.info_item):
        heading = text_of(item.css_first(sel.info_heading)).lower().rstrip(": ")
        value = item.css_first(sel.info_value)
        if not heading or value is None:
            continue
        for key, labels in _LABELS.items():
            if key not in rows and heading.startswith(labels):
                rows[key] = value
    return rows


def split_names(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;/|]", text) if part.strip()]


def parse_series_page(
    tree: LexborHTMLParser,
    *,
    page_url: str,
    params: MadaraParams,
    provider_id: str,
    external_id: str,
    nsfw: bool,
) -> MangaDetails:
    sel = params.selectors
    title = text_of(tree.css_first(sel.title))
    if not title:
        raise ParseFailure(f"series page has no title at {sel.title!r} (layout changed?)")
    rows = info_rows(tree, sel)
    genres = all_texts(tree, sel.genres)
    authors = all_texts(rows["author"], "a") if "author" in rows else []
    if not authors and "author" in rows:
        authors = split_names(text_of(rows["author"]))
    return MangaDetails(
        provider_id=provider_id,
        external_id=external_id,
        title=title,
        alt_titles=split_names(text_of(rows.get("alt"))),
        description=paragraphs(tree.css_first(sel.description)),
        cover_url=image_url(tree.css_first(sel.cover), page_url),
        status=normalize_status(text_of(rows.get("status"))),
        year=year_of(text_of(rows.get("release"))),
        genres=genres,
        authors=authors,
        nsfw=nsfw or any(g.lower() in NSFW_GENRES for g in genres),
        url=page_url,
    )


def madara_post_id(tree: LexborHTMLParser) -> str | None:
    """The WordPress post id the old AJAX endpoint wants, from wherever the theme put it."""
    candidates = (
        ("#manga-chapters-holder", "data-id"),
        (".wp-manga-action-button", "data-post"),
        ("input.rating-post-id", "value"),
        ("#wp-manga-current-chap", "data-id"),
    )
    for selector, attribute in candidates:
        node = tree.css_first(selector)
        value = (node.attributes.get(attribute) or "").strip() if node is not None else ""
        if value.isdigit():
            return value
    shortlink = tree.css_first('link[rel="shortlink"]')
    match = re.search(r"[?&]p=(\d+)", shortlink.attributes.get("href") or "" if shortlink else "")
    if match:
        return match.group(1)
    body = tree.body
    match = re.search(r"\bpostid-(\d+)\b", (body.attributes.get("class") or "") if body else "")
    return match.group(1) if match else None


def parse_chapter_list(
    tree: LexborHTMLParser, *, page_url: str, params: MadaraParams
) -> list[Chapter]:
    """Chapters of an AJAX chapter list, oldest first (the theme lists newest first)."""
    sel = params.selectors
    items = tree.css(sel.chapter_item)
    if not items and tree.css_first(sel.chapter_list) is None:
        raise ParseFailure("chapter list has no chapters container (layout changed?)")
    chapters: dict[str, Chapter] = {}
    for item in items:
        anchor = item.css_first(sel.chapter_link)
        link = link_url(anchor, page_url)
        if link is None:
            raise ParseFailure("chapter entry without a link (layout changed?)")
        chapter_id = chapter_id_from_url(link, params.manga_path)
        title = text_of(anchor) or None
        date_node = item.css_first(sel.chapter_date)
        chapters.setdefault(
            chapter_id,
            Chapter(
                external_id=chapter_id,
                number=chapter_number(title or chapter_id, params.chapter_number_regex),
                title=title,
                published_at=parse_date(text_of(date_node), params.date_format),
                url=link.split("?", 1)[0],
            ),
        )
    return list(reversed(chapters.values()))


def parse_reader_page(tree: LexborHTMLParser, *, page_url: str, params: MadaraParams) -> list[Page]:
    sel = params.selectors
    if tree.css_first("#chapter-protector-data") is not None:
        raise ParseFailure("chapter images are encrypted by the site's chapter protector")
    reader = tree.css_first(sel.reader)
    if reader is None:
        raise ParseFailure(f"chapter page has no reader at {sel.reader!r} (layout changed?)")
    urls = [image_url(img, page_url) for img in reader.css(sel.page_image)]
    pages = [Page(index=i, url=url) for i, url in enumerate((u for u in urls if u), start=1)]
    if not pages:
        raise ParseFailure("chapter page has no images")
    return pages


# -- the provider --------------------------------------------------------------------------


def _path_segment(value: str, what: str) -> str:
    value = value.strip().strip("/")
    if not value or "/" in value or value in (".", ".."):
        raise UnknownManga(f"not a valid {what}: {value!r}")
    return quote(value, safe="")


class MadaraProvider(Provider):
    kind = "madara"
    Params = MadaraParams
    params: MadaraParams

    def series_url(self, slug: str) -> str:
        return f"{self.url}/{self.params.manga_path}/{_path_segment(slug, 'series slug')}/"

    async def _get_page(
        self, url: str, *, what: str, params: dict[str, str] | None = None
    ) -> LexborHTMLParser:
        try:
            response = await self.http.get(self.id, url, params=params)
        except HTTPStatusFailure as exc:
            if exc.status_code in (404, 410):
                raise UnknownManga(f"{what} not found at {url}", status_code=404) from exc
            raise
        return parse_html(response.text, what=what)

    async def search(self, query: str, *, page: int = 1, limit: int = 20) -> list[SearchResult]:
        page_url = f"{self.url}/" if page <= 1 else f"{self.url}/page/{page}/"
        try:
            response = await self.http.get(
                self.id, page_url, params={"s": query, "post_type": "wp-manga"}
            )
        except HTTPStatusFailure as exc:
            # WordPress answers a page past the last one with its 404 page.
            if page > 1 and exc.status_code == 404:
                return []
            raise
        tree = parse_html(response.text, what="search page")
        results = parse_search_page(
            tree,
            page_url=str(response.url),
            params=self.params,
            provider_id=self.id,
            nsfw=self.definition.nsfw,
        )
        return results[:limit]

    async def get_manga_details(self, external_id: str) -> MangaDetails:
        url = self.series_url(external_id)
        tree = await self._get_page(url, what="series")
        return parse_series_page(
            tree,
            page_url=url,
            params=self.params,
            provider_id=self.id,
            external_id=external_id.strip().strip("/"),
            nsfw=self.definition.nsfw,
        )

    async def get_chapters(self, external_id: str) -> list[Chapter]:
        series_url = self.series_url(external_id)
        headers = {"X-Requested-With": "XMLHttpRequest", "Referer": series_url}
        if self.params.chapters_endpoint == "new":
            url, data = f"{series_url}ajax/chapters/", None
        else:
            post_id = madara_post_id(await self._get_page(series_url, what="series"))
            if post_id is None:
                raise ParseFailure("series page has no post id for the chapter list")
            url = f"{self.url}/wp-admin/admin-ajax.php"
            data = {"action": "manga_get_chapters", "manga": post_id}
        try:
            response = await self.http.post(self.id, url, data=data, headers=headers)
        except HTTPStatusFailure as exc:
            if exc.status_code in (404, 410):
                raise UnknownManga(
                    f"no chapter list at {url}: the series does not exist, or the site wants "
                    "chapters_endpoint: old",
                    status_code=404,
                ) from exc
            raise
        tree = parse_html(response.text, what="chapter list")
        return parse_chapter_list(tree, page_url=series_url, params=self.params)

    async def get_pages(self, chapter_id: str) -> list[Page]:
        slug, _, chapter = chapter_id.strip().strip("/").partition("/")
        url = f"{self.series_url(slug)}{_path_segment(chapter, 'chapter id')}/"
        tree = await self._get_page(url, what="chapter", params=_READER_QUERY)
        return parse_reader_page(tree, page_url=url, params=self.params)
