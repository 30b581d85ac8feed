"""Kind ``madara``: sites running the WordPress "Madara" manga theme.

The theme's shape: search at ``/?s=QUERY&post_type=wp-manga`` (``/page/N/`` for more; or the
theme's "load more" AJAX action ``madara_load_more``), a series at ``/<manga_path>/<slug>/``,
its chapters in the series page itself (``li.wp-manga-chapter``) or, when the page only has the
empty chapters holder, from one of the theme's AJAX endpoints (newer sites
``POST /<manga_path>/<slug>/ajax/chapters/``, older ones ``POST /wp-admin/admin-ajax.php`` with
``action=manga_get_chapters&manga=<post id>``; a 400/404 from one switches the provider to the
other for good), and a chapter's images in ``.reading-content`` (``.page-break``, gallery or
``.text-left`` blocks), or encrypted by the "chapter protector" with the key in the page.
External ids are the series slug and ``<slug>/<chapter slug>``. A page without the expected
structure is a ``ParseFailure``: that is how a changed layout shows up in health checks.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import parse_qsl, quote

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
from kurobara.providers.cryptojs import CryptoJSError, cryptojs_decrypt
from kurobara.providers.definitions import ProviderDefinition
from kurobara.providers.errors import HTTPStatusFailure, ParseFailure, UnknownManga
from kurobara.providers.http import HttpClient
from kurobara.providers.response import HttpResponse
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

logger = logging.getLogger(__name__)

Selector = Annotated[str, AfterValidator(check_selector)]
Regex = Annotated[str, AfterValidator(check_regex)]
CookieName = Annotated[str, Field(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")]
HeaderName = Annotated[str, Field(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")]
HeaderValue = Annotated[str, Field(pattern=r"^[^\r\n\x00]*$", max_length=2000)]

# Labels of the theme's "post-content_item" rows (lower case, matched as prefixes) in the
# languages Madara sites most often use.
_LABELS: dict[str, tuple[str, ...]] = {
    "status": ("status", "statut", "estado", "stato", "durum", "статус", "tình trạng"),
    "alt": ("alternative", "alt", "other name", "nomes alternativos", "otros nombres"),
    "author": ("author", "auteur", "autor", "autore", "yazar"),
    "release": ("release", "année", "lanzamiento", "lançamento", "year"),
}
# The premium-chapter add-on's markers on a chapter's <li> (and the lock icon inside it).
_LOCKED_CLASSES = frozenset({"premium", "premium-block", "vip-permission", "locked"})
_NOT_FOUND = (400, 404)  # what a Madara install answers for a chapter endpoint it does not have


class MadaraSelectors(BaseModel):
    """The theme's markup; override one when a site's child theme renames something."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    search_container: Selector = ".c-tabs-item, .tab-content-wrap, .search-wrap"
    search_item: Selector = ".c-tabs-item__content"
    search_title: Selector = ".post-title a"
    search_cover: Selector = ".tab-thumb img"
    search_status: Selector = ".mg_status .summary-content"
    # The archive listing (``/manga/?m_orderby=views``) and the home page: one block per title.
    listing_item: Selector = ".page-item-detail"
    listing_title: Selector = ".post-title a"
    listing_cover: Selector = "img"
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
    chapter_locked: Selector = ".fa-lock, .icon-lock, .premium-icon"
    chapters_holder: Selector = "div[id^=manga-chapters-holder]"
    reader: Selector = ".reading-content"
    # The theme's page-break blocks, the block editor's gallery, and plain images in a
    # .text-left block (not the gallery's own, which the second part already reads).
    page_image: Selector = (
        ".page-break img, li.blocks-gallery-item img, "
        ".text-left:not(:has(.blocks-gallery-item)) img"
    )


class MadaraParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    manga_path: str = Field(default="manga", pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
    # The AJAX endpoint tried first when the series page has only the chapters holder; on a
    # 400/404 the other one is tried and remembered for this provider.
    chapters_endpoint: Literal["new", "old"] = "new"
    search_mode: Literal["page", "load_more"] = "page"
    date_format: str = Field(default="%B %d, %Y", min_length=2, max_length=50)
    # The language of month names and relative dates; default: the definition's language.
    date_language: str | None = Field(default=None, min_length=2, max_length=10)
    # Appended to chapter links: the theme's "list" style puts every image on one page.
    chapter_url_suffix: str = Field(default="?style=list", pattern=r"^(\?[^#\s]*)?$")
    cookies: dict[CookieName, HeaderValue] = Field(default_factory=dict, max_length=20)
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=20)
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
    return _title_blocks(
        tree.css(sel.search_item), title=sel.search_title, cover=sel.search_cover,
        status=sel.search_status, what="search result", page_url=page_url, params=params,
        provider_id=provider_id, nsfw=nsfw,
    )  # fmt: skip


def parse_listing_page(
    tree: LexborHTMLParser, *, page_url: str, params: MadaraParams, provider_id: str, nsfw: bool
) -> list[SearchResult]:
    """The archive listing's title blocks (popular, latest), in the page's order."""
    sel = params.selectors
    return _title_blocks(
        tree.css(sel.listing_item), title=sel.listing_title, cover=sel.listing_cover,
        status=None, what="listing entry", page_url=page_url, params=params,
        provider_id=provider_id, nsfw=nsfw,
    )  # fmt: skip


def _title_blocks(
    items: list[LexborNode],
    *,
    title: Selector,
    cover: Selector,
    status: Selector | None,
    what: str,
    page_url: str,
    params: MadaraParams,
    provider_id: str,
    nsfw: bool,
) -> list[SearchResult]:
    """One result per series (the first block of each), in the page's order."""
    results: dict[str, SearchResult] = {}
    for item in items:
        anchor = item.css_first(title)
        link = link_url(anchor, page_url)
        name = text_of(anchor)
        if link is None or not name:
            raise ParseFailure(f"{what} without a title link (layout changed?)")
        slug = slug_from_url(link, params.manga_path)
        results.setdefault(
            slug,
            SearchResult(
                provider_id=provider_id,
                external_id=slug,
                title=name,
                url=link,
                cover_url=image_url(item.css_first(cover), page_url),
                status=normalize_status(text_of(item.css_first(status))) if status else None,
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


@dataclass(frozen=True)
class ChapterListing:
    """The chapters a list offers to read, and those it lists but we leave out, with why."""

    chapters: list[Chapter]
    skipped: list[tuple[str, str]] = field(default_factory=list)


def chapter_date(item: LexborNode, sel: MadaraSelectors) -> str:
    """A chapter's date text: a recent one shows a "new" image or link whose alt or title is
    the relative date ("2 hours ago"), older ones plain text."""
    for node, attribute in ((item.css_first("img:not(.thumb)[alt]"), "alt"),
                            (item.css_first("span a[title]"), "title")):  # fmt: skip
        value = (node.attributes.get(attribute) or "").strip() if node is not None else ""
        if value:
            return value
    return text_of(item.css_first(sel.chapter_date))


def locked_reason(item: LexborNode, sel: MadaraSelectors) -> str | None:
    classes = set((item.attributes.get("class") or "").split())
    if classes & _LOCKED_CLASSES:
        return f"premium chapter ({', '.join(sorted(classes & _LOCKED_CLASSES))})"
    if item.css_first(sel.chapter_locked) is not None:
        return "locked chapter (lock icon)"
    return None


def parse_chapter_list(
    tree: LexborHTMLParser,
    *,
    page_url: str,
    params: MadaraParams,
    language: str | None = None,
    now: datetime | None = None,
) -> ChapterListing:
    """Chapters of a chapter list (the series page's or an AJAX answer), oldest first (the
    theme lists newest first); locked and premium ones are left out with their reason."""
    sel = params.selectors
    items = tree.css(sel.chapter_item)
    if not items and tree.css_first(sel.chapter_list) is None:
        raise ParseFailure("chapter list has no chapters container (layout changed?)")
    now = now or datetime.now(UTC)
    chapters: dict[str, Chapter] = {}
    skipped: list[tuple[str, str]] = []
    for item in items:
        anchor = item.css_first(sel.chapter_link)
        title = text_of(anchor) or None
        reason = locked_reason(item, sel)
        if reason is not None:
            skipped.append((title or text_of(item), reason))
            continue
        link = link_url(anchor, page_url)
        if link is None:
            raise ParseFailure("chapter entry without a link (layout changed?)")
        chapter_id = chapter_id_from_url(link, params.manga_path)
        date_text = chapter_date(item, sel)
        chapters.setdefault(
            chapter_id,
            Chapter(
                external_id=chapter_id,
                number=chapter_number(title or chapter_id, params.chapter_number_regex),
                title=title,
                published_at=parse_site_date(
                    date_text, params.date_format, params.date_language or language, now=now
                ),
                url=link.split("?", 1)[0],
            ),
        )
    return ChapterListing(list(reversed(chapters.values())), skipped)


def protector_script(tree: LexborHTMLParser) -> str | None:
    """The chapter protector's script text, inline or as a base64 ``data:`` URI."""
    node = tree.css_first("#chapter-protector-data")
    if node is None:
        return None
    source = (node.attributes.get("src") or "").strip()
    prefix = "data:text/javascript;base64,"
    if source.startswith(prefix):
        try:
            return base64.b64decode(source[len(prefix) :]).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ParseFailure("chapter is protected, and its protector script is garbled") from exc
    return node.text() or ""


def _js_string(script: str, name: str) -> str | None:
    match = re.search(rf"\b{name}\s*=\s*'([^']*)'", script)
    return match.group(1) if match else None


def decrypt_protected_pages(script: str) -> list[str]:
    """The image URLs the chapter protector encrypted: ``chapter_data`` is CryptoJS's JSON
    (``ct`` base64, ``s`` hex salt) under the password ``wpmangaprotectornonce``; the plaintext
    is a JSON string holding the JSON array of URLs."""
    password = _js_string(script, "wpmangaprotectornonce")
    data = _js_string(script, "chapter_data")
    if not password or not data:
        raise ParseFailure("chapter images are protected, and the page does not carry the key")
    try:
        fields = json.loads(data.replace("\\/", "/"))
        plain = cryptojs_decrypt(
            base64.b64decode(fields["ct"]), bytes.fromhex(fields["s"]), password.encode()
        )
        urls = json.loads(plain)
        if isinstance(urls, str):
            urls = json.loads(urls)
    except (ValueError, KeyError, TypeError, binascii.Error, CryptoJSError) as exc:
        raise ParseFailure(
            f"chapter images are protected and could not be decrypted: {exc}"
        ) from exc
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise ParseFailure("chapter is protected, and its decrypted data is not a list of images")
    return urls


def parse_reader_page(tree: LexborHTMLParser, *, page_url: str, params: MadaraParams) -> list[Page]:
    sel = params.selectors
    script = protector_script(tree)
    if script is not None:
        urls: list[str | None] = [
            image_url_from(u, page_url) for u in decrypt_protected_pages(script)
        ]
    else:
        reader = tree.css_first(sel.reader)
        if reader is None:
            raise ParseFailure(f"chapter page has no reader at {sel.reader!r} (layout changed?)")
        urls = [image_url(img, page_url) for img in reader.css(sel.page_image)]
    unique = list(dict.fromkeys(u for u in urls if u))
    if not unique:
        raise ParseFailure("chapter page has no images")
    return [Page(index=i, url=url) for i, url in enumerate(unique, start=1)]


def image_url_from(value: str, page_url: str) -> str | None:
    return absolute_url(page_url, value)


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

    def __init__(self, definition: ProviderDefinition, http: HttpClient) -> None:
        super().__init__(definition, http)
        # The AJAX endpoint this site answers; switched (and kept) after a 400/404.
        self.chapters_endpoint: Literal["new", "old"] = self.params.chapters_endpoint
        self._extra_headers = request_headers(self.params.cookies, self.params.headers)

    def series_url(self, slug: str) -> str:
        return f"{self.url}/{self.params.manga_path}/{_path_segment(slug, 'series slug')}/"

    def image_headers(self) -> dict[str, str]:
        return {**self._extra_headers, **super().image_headers()}

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**self._extra_headers, **(extra or {})}

    async def _get_page(
        self, url: str, *, what: str, params: dict[str, str] | None = None
    ) -> LexborHTMLParser:
        try:
            response = await self.http.get(self.id, url, params=params, headers=self._headers())
        except HTTPStatusFailure as exc:
            if exc.status_code in (404, 410):
                raise UnknownManga(f"{what} not found at {url}", status_code=404) from exc
            raise
        return parse_html(response.text, what=what)

    async def search(self, query: str, *, page: int = 1, limit: int = 20) -> list[SearchResult]:
        if self.params.search_mode == "load_more":
            return (await self._search_load_more(query, page))[:limit]
        page_url = f"{self.url}/" if page <= 1 else f"{self.url}/page/{page}/"
        try:
            response = await self.http.get(
                self.id, page_url, params={"s": query, "post_type": "wp-manga"},
                headers=self._headers(),
            )  # fmt: skip
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

    listings = (POPULAR, LATEST)
    _ORDERBY = {POPULAR: "views", LATEST: "latest"}

    async def browse(self, listing: str, *, page: int = 1, limit: int = 20) -> list[SearchResult]:
        """The theme's archive: ``/<manga_path>/[page/N/]?m_orderby=views`` (popular) or
        ``latest``."""
        orderby = self._ORDERBY.get(listing)
        if orderby is None:
            raise UnsupportedListing(self.id, listing)
        base = f"{self.url}/{self.params.manga_path}/"
        page_url = base if page <= 1 else f"{base}page/{page}/"
        try:
            response = await self.http.get(
                self.id, page_url, params={"m_orderby": orderby}, headers=self._headers()
            )
        except HTTPStatusFailure as exc:
            if page > 1 and exc.status_code == 404:
                return []
            raise
        tree = parse_html(response.text, what=f"{listing} list")
        if page <= 1 and not tree.css(self.params.selectors.listing_item):
            raise ParseFailure(f"{listing} list has no titles (layout changed?)")
        results = parse_listing_page(
            tree, page_url=str(response.url), params=self.params, provider_id=self.id,
            nsfw=self.definition.nsfw,
        )  # fmt: skip
        return results[:limit]

    async def _search_load_more(self, query: str, page: int) -> list[SearchResult]:
        """The theme's "load more" action: result items without the page around them, and an
        empty answer past the last page."""
        url = f"{self.url}/wp-admin/admin-ajax.php"
        headers = self._headers({"X-Requested-With": "XMLHttpRequest", "Referer": f"{self.url}/"})
        response = await self.http.post(
            self.id, url, data=load_more_form(query, page), headers=headers
        )
        if not response.text.strip():
            return []
        tree = parse_html(response.text, what="search results")
        return parse_search_page(
            tree, page_url=url, params=self.params, provider_id=self.id, nsfw=self.definition.nsfw
        )

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
        tree = await self._get_page(series_url, what="series")
        sel = self.params.selectors
        if not tree.css(sel.chapter_item) and tree.css_first(sel.chapters_holder) is not None:
            tree = await self._ajax_chapters(series_url, tree)
        listing = parse_chapter_list(
            tree, page_url=series_url, params=self.params, language=self.definition.language
        )
        for title, reason in listing.skipped:
            logger.info("chapter left out provider=%s chapter=%r reason=%s", self.id, title, reason)
        return listing.chapters

    async def _ajax_chapters(self, series_url: str, page: LexborHTMLParser) -> LexborHTMLParser:
        """The chapter list from the endpoint this site answers: the one in use first, on a
        400/404 the other, which is then kept for the next series."""
        first = self.chapters_endpoint
        for endpoint in (first, "old" if first == "new" else "new"):
            try:
                response = await self._post_chapters(endpoint, series_url, page)
            except HTTPStatusFailure as exc:
                if exc.status_code not in _NOT_FOUND:
                    raise
                logger.info(
                    "chapter endpoint refused provider=%s endpoint=%s status=%s",
                    self.id, endpoint, exc.status_code,
                )  # fmt: skip
                continue
            if endpoint != self.chapters_endpoint:
                self.chapters_endpoint = endpoint
            return parse_html(response.text, what="chapter list")
        raise ParseFailure(
            f"neither chapter endpoint answered for {series_url} (new: <series>/ajax/chapters/, "
            "old: wp-admin/admin-ajax.php)"
        )

    async def _post_chapters(
        self, endpoint: str, series_url: str, page: LexborHTMLParser
    ) -> HttpResponse:
        headers = self._headers({"X-Requested-With": "XMLHttpRequest", "Referer": series_url})
        if endpoint == "new":
            return await self.http.post(self.id, f"{series_url}ajax/chapters/", headers=headers)
        post_id = madara_post_id(page)
        if post_id is None:
            raise ParseFailure("series page has no post id for the chapter list")
        data = {"action": "manga_get_chapters", "manga": post_id}
        url = f"{self.url}/wp-admin/admin-ajax.php"
        return await self.http.post(self.id, url, data=data, headers=headers)

    async def get_pages(self, chapter_id: str) -> list[Page]:
        slug, _, chapter = chapter_id.strip().strip("/").partition("/")
        url = f"{self.series_url(slug)}{_path_segment(chapter, 'chapter id')}/"
        query = dict(parse_qsl(self.params.chapter_url_suffix.removeprefix("?")))
        tree = await self._get_page(url, what="chapter", params=query or None)
        return parse_reader_page(tree, page_url=url, params=self.params)


def load_more_form(query: str, page: int) -> dict[str, str]:
    """The theme's ``madara_load_more`` search request (its pages count from 0)."""
    return {
        "action": "madara_load_more",
        "page": str(max(0, page - 1)),
        "template": "madara-core/content/content-search",
        "vars[s]": query,
        "vars[orderby]": "",
        "vars[paged]": "1",
        "vars[template]": "search",
        "vars[meta_query][0][relation]": "AND",
        "vars[meta_query][relation]": "AND",
        "vars[post_type]": "wp-manga",
        "vars[post_status]": "publish",
        "vars[manga_archives_item_layout]": "default",
    }
