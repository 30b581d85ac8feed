"""Kind ``html``: a site described entirely by CSS selectors in its definition.

Four blocks mirror the four operations: ``search`` (with the top-level ``search_url``
template), ``manga`` (the series page), ``chapters`` and ``pages``. External ids come from the
links the site itself renders: ``id_pattern`` cuts the id out of a link's path, and the
block's ``url`` template (``{id}``) turns an id back into a page. Everything is validated when
the registry loads, so a typo in a selector stops start-up naming the field, not the first
search.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import quote, quote_plus, urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from selectolax.lexbor import LexborHTMLParser

from kurobara.providers.base import Chapter, MangaDetails, Page, Provider, SearchResult
from kurobara.providers.errors import HTTPStatusFailure, ParseFailure, UnknownManga
from kurobara.providers.scraping import (
    DEFAULT_CHAPTER_NUMBER_REGEX,
    NSFW_GENRES,
    all_texts,
    chapter_number,
    check_regex,
    check_selector,
    check_template,
    first_text,
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
Attribute = Annotated[str, Field(pattern=r"^[A-Za-z_:][A-Za-z0-9_:.-]*$", max_length=100)]
DEFAULT_ID_PATTERN = r"^/*(.+?)/*$"  # the whole path, without its slashes


def _id_pattern(pattern: str) -> str:
    compiled = re.compile(check_regex(pattern))
    if compiled.groups != 1 and "id" not in compiled.groupindex:
        raise ValueError("must have exactly one capturing group, or a group named 'id'")
    return pattern


def _url_template(allowed: set[str], required: set[str]) -> AfterValidator:
    def check(template: str) -> str:
        if not template.startswith(("/", "http://", "https://")):
            raise ValueError("must start with '/' (relative to the site's url) or http(s)://")
        return check_template(template, allowed=allowed, required=required)

    return AfterValidator(check)


IdPattern = Annotated[str, AfterValidator(_id_pattern)]
IdTemplate = Annotated[str, _url_template({"id"}, {"id"})]
SearchTemplate = Annotated[str, _url_template({"query", "page"}, {"query"})]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SearchSelectors(_Block):
    # An element the page has even when nothing matched: it tells "no results" apart from
    # "layout changed".
    container: Selector | None = None
    item: Selector
    title: Selector
    link: Selector | None = None  # default: the title's link, else the item's first link
    cover: Selector | None = None
    cover_attribute: Attribute | None = None  # default: lazy-loading attributes, then src
    status: Selector | None = None


class MangaSelectors(_Block):
    url: IdTemplate = "/{id}"
    id_pattern: IdPattern = DEFAULT_ID_PATTERN
    title: Selector
    description: Selector | None = None
    cover: Selector | None = None
    cover_attribute: Attribute | None = None
    genres: Selector | None = None
    status: Selector | None = None
    alt_titles: Selector | None = None
    authors: Selector | None = None
    year: Selector | None = None


class ChapterSelectors(_Block):
    url: IdTemplate | None = None  # default: the series page
    id_pattern: IdPattern = DEFAULT_ID_PATTERN
    container: Selector | None = None
    item: Selector
    link: Selector = "a"
    title: Selector | None = None  # default: the link's text
    number: Selector | None = None  # default: the number in the title
    number_regex: Annotated[str, AfterValidator(check_regex)] = DEFAULT_CHAPTER_NUMBER_REGEX
    date: Selector | None = None
    date_format: str | None = Field(default=None, min_length=2, max_length=50)
    order: Literal["newest_first", "oldest_first"] = "newest_first"


class PageSelectors(_Block):
    url: IdTemplate = "/{id}"
    container: Selector | None = None
    image: Selector
    attribute: Attribute | None = None


class HtmlParams(_Block):
    search_url: SearchTemplate
    search: SearchSelectors
    manga: MangaSelectors
    chapters: ChapterSelectors
    pages: PageSelectors


# -- parsing (pure) ------------------------------------------------------------------------


def id_from_link(link: str, *, site_url: str, pattern: str) -> str:
    """Cut an external id out of a link: ``/series/the-blade`` with ``^/series/([^/]+)$`` →
    ``the-blade``. The pattern sees the path relative to the site's url."""
    path = url_path(link)
    site_path = urlsplit(site_url).path.rstrip("/")
    if site_path and path.startswith(site_path + "/"):
        path = path[len(site_path) :]
    match = re.search(pattern, path)
    value = (match.group("id") if "id" in match.re.groupindex else match.group(1)) if match else ""
    if not value:
        raise ParseFailure(f"link {link} does not match id_pattern {pattern!r}")
    return value


def fill_url(site_url: str, template: str, external_id: str) -> str:
    """An id put back into its page's URL template, safely quoted."""
    cleaned = external_id.strip()
    if not cleaned or any(part in ("", ".", "..") for part in cleaned.strip("/").split("/")):
        raise UnknownManga(f"not a valid id: {external_id!r}")
    filled = template.format(id=quote(cleaned.strip("/"), safe="/-_.~%!$&'()*+,;=:@?"))
    return filled if filled.startswith(("http://", "https://")) else site_url + filled


def parse_search(
    tree: LexborHTMLParser,
    *,
    url: str,
    site_url: str,
    params: HtmlParams,
    provider_id: str,
    nsfw: bool,
) -> list[SearchResult]:
    sel = params.search
    items = tree.css(sel.item)
    if sel.container and not items and tree.css_first(sel.container) is None:
        raise ParseFailure("search page has no result list (layout changed?)")
    results: dict[str, SearchResult] = {}
    for item in items:
        title_node = item.css_first(sel.title)
        link_node = item.css_first(sel.link) if sel.link else title_node
        link = link_url(link_node, url) or link_url(item, url)
        title = text_of(title_node)
        if link is None or not title:
            raise ParseFailure("search result without a title or link (layout changed?)")
        external_id = id_from_link(link, site_url=site_url, pattern=params.manga.id_pattern)
        cover = item.css_first(sel.cover) if sel.cover else None
        results.setdefault(
            external_id,
            SearchResult(
                provider_id=provider_id,
                external_id=external_id,
                title=title,
                url=link,
                cover_url=image_url(cover, url, sel.cover_attribute),
                status=normalize_status(first_text(item, sel.status)),
                nsfw=nsfw,
            ),
        )
    return list(results.values())


def parse_manga(
    tree: LexborHTMLParser,
    *,
    url: str,
    params: HtmlParams,
    provider_id: str,
    external_id: str,
    nsfw: bool,
) -> MangaDetails:
    sel = params.manga
    title = first_text(tree, sel.title)
    if not title:
        raise ParseFailure(f"series page has no title at {sel.title!r} (layout changed?)")
    genres = all_texts(tree, sel.genres)
    return MangaDetails(
        provider_id=provider_id,
        external_id=external_id,
        title=title,
        alt_titles=[t for t in all_texts(tree, sel.alt_titles) if t != title],
        description=paragraphs(tree.css_first(sel.description)) if sel.description else None,
        cover_url=image_url(tree.css_first(sel.cover), url, sel.cover_attribute)
        if sel.cover
        else None,
        status=normalize_status(first_text(tree, sel.status)),
        year=year_of(first_text(tree, sel.year)),
        genres=genres,
        authors=all_texts(tree, sel.authors),
        nsfw=nsfw or any(g.lower() in NSFW_GENRES for g in genres),
        url=url,
    )


def parse_chapters(
    tree: LexborHTMLParser, *, url: str, site_url: str, params: HtmlParams
) -> list[Chapter]:
    """Every chapter on the page, oldest first."""
    sel = params.chapters
    items = tree.css(sel.item)
    if sel.container and not items and tree.css_first(sel.container) is None:
        raise ParseFailure("chapter list not found (layout changed?)")
    chapters: dict[str, Chapter] = {}
    for item in items:
        link = link_url(item.css_first(sel.link), url)
        if link is None:
            raise ParseFailure("chapter entry without a link (layout changed?)")
        chapter_id = id_from_link(link, site_url=site_url, pattern=sel.id_pattern)
        title = first_text(item, sel.title or sel.link)
        number_text = first_text(item, sel.number) or title or ""
        chapters.setdefault(
            chapter_id,
            Chapter(
                external_id=chapter_id,
                number=chapter_number(number_text, sel.number_regex),
                title=title,
                published_at=parse_date(first_text(item, sel.date), sel.date_format),
                url=link,
            ),
        )
    ordered = list(chapters.values())
    return ordered[::-1] if sel.order == "newest_first" else ordered


def parse_pages(tree: LexborHTMLParser, *, url: str, params: HtmlParams) -> list[Page]:
    sel = params.pages
    root = tree.css_first(sel.container) if sel.container else tree.root
    if root is None:
        raise ParseFailure(f"chapter page has no reader at {sel.container!r} (layout changed?)")
    urls = [image_url(img, url, sel.attribute) for img in root.css(sel.image)]
    pages = [Page(index=i, url=u) for i, u in enumerate((u for u in urls if u), start=1)]
    if not pages:
        raise ParseFailure(f"chapter page has no images at {sel.image!r}")
    return pages


# -- the provider --------------------------------------------------------------------------


class HtmlProvider(Provider):
    kind = "html"
    Params = HtmlParams
    params: HtmlParams

    async def _page(self, url: str, *, what: str) -> LexborHTMLParser:
        try:
            response = await self.http.get(self.id, url)
        except HTTPStatusFailure as exc:
            if exc.status_code in (404, 410):
                raise UnknownManga(f"{what} not found at {url}", status_code=404) from exc
            raise
        return parse_html(response.text, what=what)

    async def search(self, query: str, *, page: int = 1, limit: int = 20) -> list[SearchResult]:
        filled = self.params.search_url.format(query=quote_plus(query), page=max(1, page))
        url = filled if filled.startswith(("http://", "https://")) else self.url + filled
        response = await self.http.get(self.id, url)
        tree = parse_html(response.text, what="search page")
        results = parse_search(
            tree,
            url=str(response.url),
            site_url=self.url,
            params=self.params,
            provider_id=self.id,
            nsfw=self.definition.nsfw,
        )
        return results[:limit]

    async def get_manga_details(self, external_id: str) -> MangaDetails:
        url = fill_url(self.url, self.params.manga.url, external_id)
        tree = await self._page(url, what="series")
        return parse_manga(
            tree,
            url=url,
            params=self.params,
            provider_id=self.id,
            external_id=external_id.strip().strip("/"),
            nsfw=self.definition.nsfw,
        )

    async def get_chapters(self, external_id: str) -> list[Chapter]:
        template = self.params.chapters.url or self.params.manga.url
        url = fill_url(self.url, template, external_id)
        tree = await self._page(url, what="chapter list")
        return parse_chapters(tree, url=url, site_url=self.url, params=self.params)

    async def get_pages(self, chapter_id: str) -> list[Page]:
        url = fill_url(self.url, self.params.pages.url, chapter_id)
        tree = await self._page(url, what="chapter")
        return parse_pages(tree, url=url, params=self.params)
