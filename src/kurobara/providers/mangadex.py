"""The ``mangadex`` kind: the MangaDex REST API (v5) as its published OpenAPI document describes it.

``GET /manga`` searches by title (with the ``cover_art`` relationship expanded), ``/manga/{id}``
gives the details, ``/manga/{id}/feed`` lists the chapters a page at a time, and
``/at-home/server/{chapterId}`` says where a chapter's page images are served. Covers come from
the uploads host (``{uploads_url}/covers/{manga_id}/{file}.256.jpg``).

Responses are validated against models of those shapes: a site that answers something else is a
``ParseFailure``, an id the API does not know is ``UnknownManga``.

By the API's rules: search asks only for titles that have chapters in the instance's
``languages`` (``availableTranslatedLanguage[]`` with ``hasAvailableChapters``, switchable with
``search_languages_only``); the feed leaves out chapters not yet published
(``includeFuturePublishAt=0``) and those the site took down (``includeUnavailable=0``), keeps
the ones hosted elsewhere (``externalUrl``: the chapter carries ``external_url`` and the reader
links out), and credits every scanlation group. Requests keep to about 3 per second (the
definition's ``rate_limit``), the at-home endpoint to its own budget (``at_home_rate``, the
documented 40 per minute); a 429 pauses that budget until ``X-RateLimit-Retry-After``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

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
from kurobara.providers.definitions import ProviderDefinition, _http_url
from kurobara.providers.errors import HTTPStatusFailure, ParseFailure, UnknownManga
from kurobara.providers.http import HttpClient

ContentRating = Literal["safe", "suggestive", "erotica", "pornographic"]
NSFW_RATINGS: frozenset[str] = frozenset({"erotica", "pornographic"})
# MangaDex's own default: everything but pornographic.
DEFAULT_RATINGS: tuple[ContentRating, ...] = ("safe", "suggestive", "erotica")
# The API refuses offset + limit beyond this window on every list endpoint.
MAX_WINDOW = 10_000
AT_HOME_BUDGET = "at-home"
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[a-z]{2,4})?$")]


class MangaDexParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_url: str = "https://api.mangadex.org"
    uploads_url: str = "https://uploads.mangadex.org"
    # Chapter languages to list, in order of preference (also for titles and descriptions).
    languages: list[LanguageCode] = Field(default_factory=lambda: ["en"], min_length=1)
    content_ratings: list[ContentRating] = Field(
        default_factory=lambda: list(DEFAULT_RATINGS), min_length=1
    )
    # Compressed page images ("data-saver") instead of the originals.
    data_saver: bool = False
    # Chapters per feed request; the API allows at most 500.
    feed_page_size: int = Field(default=500, ge=1, le=500)
    cover_size: Literal[256, 512] = 256

    # Where MangaDex@Home wants to hear how each image fetch from one of its nodes went.
    report_url: str = "https://api.mangadex.network/report"
    # Search only titles with chapters in ``languages`` (a title without any would list none).
    search_languages_only: bool = True
    # Requests per second to ``/at-home/server`` (documented: 40 per minute, apart from the
    # global limit).
    at_home_rate: float = Field(default=40 / 60, gt=0, le=100)

    @field_validator("api_url", "uploads_url", "report_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _http_url(value)


# -- the API's shapes: only the fields we read, under the API's own (camelCase) names -------


def _empty_map(value: Any) -> Any:
    # The API serialises an empty localised string as [] rather than {}.
    return {} if value == [] else value


LocalizedString = Annotated[dict[str, str], BeforeValidator(_empty_map)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Relationship(_Shape):
    id: str
    type: str
    attributes: dict[str, Any] | None = None


class _TagAttributes(_Shape):
    name: LocalizedString
    group: str


class _Tag(_Shape):
    attributes: _TagAttributes


class _MangaAttributes(_Shape):
    title: LocalizedString
    altTitles: list[LocalizedString] = []
    description: LocalizedString = {}
    status: str | None = None
    year: int | None = None
    contentRating: str | None = None
    tags: list[_Tag] = []


class _Manga(_Shape):
    id: str
    type: Literal["manga"]
    attributes: _MangaAttributes
    relationships: list[_Relationship] = []


class _MangaList(_Shape):
    result: Literal["ok"]
    data: list[_Manga]


class _MangaEntity(_Shape):
    result: Literal["ok"]
    data: _Manga


class _ChapterAttributes(_Shape):
    volume: str | None = None
    chapter: str | None = None
    title: str | None = None
    translatedLanguage: str
    publishAt: datetime | None = None
    externalUrl: str | None = None


class _Chapter(_Shape):
    id: str
    type: Literal["chapter"]
    attributes: _ChapterAttributes
    relationships: list[_Relationship] = []


class _ChapterList(_Shape):
    result: Literal["ok"]
    data: list[_Chapter]
    offset: int
    total: int


class _AtHomeChapter(_Shape):
    hash: str
    data: list[str]
    dataSaver: list[str] = []


class _AtHome(_Shape):
    result: Literal["ok"]
    baseUrl: str
    chapter: _AtHomeChapter


S = TypeVar("S", bound=_Shape)


def _parse(shape: type[S], payload: Any, what: str) -> S:
    try:
        return shape.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top)"
        raise ParseFailure(f"unexpected {what} from MangaDex: {where}: {first['msg']}") from exc


class MangaDexProvider(Provider):
    kind = "mangadex"
    Params = MangaDexParams
    params: MangaDexParams

    def __init__(self, definition: ProviderDefinition, http: HttpClient) -> None:
        super().__init__(definition, http)
        http.add_budget(self.id, AT_HOME_BUDGET, self.params.at_home_rate)

    # -- requests ---------------------------------------------------------------------------

    async def _get(
        self,
        path: str,
        params: list[tuple[str, Any]],
        *,
        missing: str = "",
        budget: str | None = None,
    ) -> Any:
        """GET an API path; with ``missing`` set, a 404 means that thing does not exist."""
        try:
            return await self.http.get_json(
                self.id, self.params.api_url + path, params=params, budget=budget
            )
        except HTTPStatusFailure as exc:
            if missing and exc.status_code == 404 and type(exc) is HTTPStatusFailure:
                raise UnknownManga(f"{missing} not found on {self.name}") from exc
            raise

    def _known_id(self, value: str, what: str) -> str:
        """MangaDex ids are UUIDs: the canonical form, or not found without asking the API."""
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise UnknownManga(f"{what} {value!r} not found on {self.name}") from None

    def _ratings(self) -> list[tuple[str, Any]]:
        return [("contentRating[]", rating) for rating in self.params.content_ratings]

    def _available_languages(self) -> list[tuple[str, Any]]:
        if not self.params.search_languages_only:
            return []
        languages = [("availableTranslatedLanguage[]", lang) for lang in self.params.languages]
        return [*languages, ("hasAvailableChapters", "true")]

    # -- the interface ----------------------------------------------------------------------

    async def search(self, query: str, *, page: int = 1, limit: int = 20) -> list[SearchResult]:
        return await self._manga_list(
            page=page,
            limit=limit,
            matching=[("title", query)],
            ordered=[("order[relevance]", "desc"), *self._ratings(), *self._available_languages()],
            what="search results",
        )

    listings = (POPULAR, LATEST)

    async def browse(self, listing: str, *, page: int = 1, limit: int = 20) -> list[SearchResult]:
        """Popular: most followed (``order[followedCount]``); latest: newest uploaded chapter
        first (``order[latestUploadedChapter]``)."""
        order = {POPULAR: "followedCount", LATEST: "latestUploadedChapter"}.get(listing)
        if order is None:
            raise UnsupportedListing(self.id, listing)
        return await self._manga_list(
            page=page,
            limit=limit,
            matching=[],
            ordered=[(f"order[{order}]", "desc"), *self._ratings()],
            what=f"{listing} list",
        )

    async def _manga_list(
        self,
        *,
        page: int,
        limit: int,
        matching: list[tuple[str, Any]],
        ordered: list[tuple[str, Any]],
        what: str,
    ) -> list[SearchResult]:
        """One page of ``/manga`` (at most 100 a page; none past the API's ``MAX_WINDOW``)."""
        limit = min(limit, 100)
        offset = (page - 1) * limit
        if offset + limit > MAX_WINDOW:
            return []
        payload = await self._get(
            "/manga",
            [
                *matching,
                ("limit", limit),
                ("offset", offset),
                ("includes[]", "cover_art"),
                *ordered,
            ],
        )
        listing = _parse(_MangaList, payload, what)
        return [self._search_result(manga) for manga in listing.data]

    async def get_manga_details(self, external_id: str) -> MangaDetails:
        external_id = self._known_id(external_id, "manga")
        payload = await self._get(
            f"/manga/{external_id}",
            [("includes[]", "cover_art"), ("includes[]", "author"), ("includes[]", "artist")],
            missing=f"manga {external_id}",
        )
        manga = _parse(_MangaEntity, payload, "manga").data
        attributes = manga.attributes
        title = self._title(attributes)
        return MangaDetails(
            provider_id=self.id,
            external_id=manga.id,
            title=title,
            alt_titles=self._alt_titles(attributes, title),
            description=self._localized(attributes.description),
            cover_url=self._cover_url(manga, size=512),
            status=attributes.status,
            year=attributes.year,
            genres=[
                name
                for tag in attributes.tags
                if tag.attributes.group in ("genre", "theme")
                and (name := self._localized(tag.attributes.name))
            ],
            authors=self._people(manga),
            nsfw=self._nsfw(attributes),
            url=f"{self.url}/title/{manga.id}",
        )

    async def get_chapters(self, external_id: str) -> list[Chapter]:
        external_id = self._known_id(external_id, "manga")
        chapters: list[Chapter] = []
        offset = 0
        while offset < MAX_WINDOW:
            limit = min(self.params.feed_page_size, MAX_WINDOW - offset)
            feed = await self._feed_page(external_id, offset=offset, limit=limit)
            chapters.extend(self._chapter(chapter) for chapter in feed.data)
            offset += len(feed.data)
            if not feed.data or offset >= feed.total:
                break
        return chapters

    async def _feed_page(self, manga_id: str, *, offset: int, limit: int) -> _ChapterList:
        payload = await self._get(
            f"/manga/{manga_id}/feed",
            [
                ("limit", limit),
                ("offset", offset),
                *[("translatedLanguage[]", lang) for lang in self.params.languages],
                ("order[volume]", "asc"),
                ("order[chapter]", "asc"),
                ("includes[]", "scanlation_group"),
                # Chapters hosted elsewhere (official sites) are listed, marked external.
                ("includeFuturePublishAt", 0),
                ("includeUnavailable", 0),
                ("includeEmptyPages", 0),
                ("includeFutureUpdates", 0),
                *self._ratings(),
            ],
            missing=f"manga {manga_id}",
        )
        return _parse(_ChapterList, payload, "chapter feed")

    async def get_pages(self, chapter_id: str) -> list[Page]:
        return await self.get_pages_of_quality(chapter_id, data_saver=self.params.data_saver)

    async def at_home_server(self, chapter_id: str) -> str:
        """The base URL of the MangaDex@Home node that serves this chapter now (valid for a
        few minutes, so the image proxy asks again when a node refuses)."""
        return (await self._at_home(chapter_id)).baseUrl

    async def _at_home(self, chapter_id: str) -> _AtHome:
        chapter_id = self._known_id(chapter_id, "chapter")
        payload = await self._get(
            f"/at-home/server/{chapter_id}",
            [],
            missing=f"chapter {chapter_id}",
            budget=AT_HOME_BUDGET,
        )
        server = _parse(_AtHome, payload, "at-home server")
        if not server.baseUrl.startswith(("http://", "https://")):
            raise ParseFailure(f"at-home server gave no usable base URL: {server.baseUrl!r}")
        return server

    async def get_pages_of_quality(self, chapter_id: str, *, data_saver: bool) -> list[Page]:
        """The pages as originals or, with ``data_saver``, as MangaDex's compressed copies."""
        server = await self._at_home(chapter_id)
        chapter = server.chapter
        quality, files = ("data-saver", chapter.dataSaver) if data_saver else ("data", chapter.data)
        base = f"{server.baseUrl.rstrip('/')}/{quality}/{chapter.hash}"
        return [
            Page(index=index, url=f"{base}/{name}") for index, name in enumerate(files, start=1)
        ]

    def site_urls(self) -> list[str]:
        return [*super().site_urls(), self.params.api_url, self.params.uploads_url]

    def image_headers(self) -> dict[str, str]:
        return {}  # the uploads host and MangaDex@Home need no Referer

    # -- mapping ----------------------------------------------------------------------------

    def _localized(self, values: dict[str, str]) -> str | None:
        """The value in the first preferred language, else English, else any."""
        for lang in (*self.params.languages, "en"):
            if values.get(lang):
                return values[lang]
        return next((value for value in values.values() if value), None)

    def _title(self, attributes: _MangaAttributes) -> str:
        title = self._localized(attributes.title) or next(
            (name for alt in attributes.altTitles if (name := self._localized(alt))), None
        )
        if not title:
            raise ParseFailure("manga without a title from MangaDex")
        return title

    @staticmethod
    def _alt_titles(attributes: _MangaAttributes, title: str) -> list[str]:
        seen = {title}
        titles = []
        for names in attributes.altTitles:
            for name in names.values():
                if name and name not in seen:
                    seen.add(name)
                    titles.append(name)
        return titles

    def _nsfw(self, attributes: _MangaAttributes) -> bool:
        return self.definition.nsfw or attributes.contentRating in NSFW_RATINGS

    def _cover_url(self, manga: _Manga, *, size: int) -> str | None:
        for rel in manga.relationships:
            if rel.type == "cover_art" and rel.attributes and rel.attributes.get("fileName"):
                name = rel.attributes["fileName"]
                return f"{self.params.uploads_url}/covers/{manga.id}/{name}.{size}.jpg"
        return None

    @staticmethod
    def _people(manga: _Manga) -> list[str]:
        names: list[str] = []
        for rel in manga.relationships:
            name = (rel.attributes or {}).get("name")
            if rel.type in ("author", "artist") and isinstance(name, str) and name not in names:
                names.append(name)
        return names

    def _search_result(self, manga: _Manga) -> SearchResult:
        attributes = manga.attributes
        return SearchResult(
            provider_id=self.id,
            external_id=manga.id,
            title=self._title(attributes),
            url=f"{self.url}/title/{manga.id}",
            cover_url=self._cover_url(manga, size=self.params.cover_size),
            description=self._localized(attributes.description),
            status=attributes.status,
            year=attributes.year,
            nsfw=self._nsfw(attributes),
        )

    def _chapter(self, chapter: _Chapter) -> Chapter:
        attributes = chapter.attributes
        groups: list[str] = []
        for rel in chapter.relationships:
            name = (rel.attributes or {}).get("name")
            cleaned = name.strip() if isinstance(name, str) else ""
            if rel.type == "scanlation_group" and cleaned and cleaned not in groups:
                groups.append(cleaned)
        external = attributes.externalUrl
        if external is not None and not external.startswith(("http://", "https://")):
            external = None
        return Chapter(
            external_id=chapter.id,
            number=attributes.chapter,
            title=attributes.title or None,
            volume=attributes.volume,
            language=attributes.translatedLanguage,
            scanlator=" & ".join(groups) or None,
            groups=groups,
            published_at=attributes.publishAt,
            url=f"{self.url}/chapter/{chapter.id}",
            external_url=external,
        )
