"""A fake MangaDex: the v5 API shapes (manga list, manga, chapter feed, at-home server) and the
uploads host (covers, page images) served from a generated catalog, on one loopback port.

Page images come from a MangaDex@Home "node" as the real ones do: the at-home endpoint hands
out a base URL with an access token (``/node/<token>``) that expires after ``node_ttl``
seconds of the site's ``clock`` (403 after that), nodes refuse hotlinked requests (a foreign
Referer, a browser's cross-site fetch), and ``POST /report`` records what clients report about
their node fetches in ``reports``.

With the ``layout`` fault every JSON endpoint answers in a different shape (as if the API had
moved to a new version), so a client built for the real shapes fails with ``parse``.

The API's rules, as its documentation gives them, are modelled and checked:

- every third series (from the second) has, besides its chapters, one hosted elsewhere
  (``externalUrl`` set, no pages), one scheduled for later (a future ``publishAt``: listed
  unless ``includeFuturePublishAt=0``) and one taken down (listed unless
  ``includeUnavailable=0``); ``includeExternalUrl=0`` leaves the external one out;
- some chapters are credited to two scanlation groups;
- the last series has chapters only in French, so a search with
  ``availableTranslatedLanguage[]=en`` and ``hasAvailableChapters=true`` leaves it out;
- flags that are not ``0``/``1`` (``true``/``false``) and malformed language codes are a 400
  ``validation_exception``;
- ``at_home_limit`` (requests, seconds), when set, makes ``/at-home/server`` answer 429 with
  ``X-RateLimit-Retry-After`` (a Unix time) once a client goes past it, as MangaDex does.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from kurobara.providers.fakes.catalog import FakeChapter, FakeSeries
from kurobara.providers.fakes.images import cover_svg, page_svg
from kurobara.providers.fakes.server import FakeSite

DEFAULT_RATINGS = ("safe", "suggestive", "erotica")
NODE_TTL = 900.0  # seconds an at-home base URL works: about 15 minutes, as MangaDex documents
SVG = "image/svg+xml"


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


SECOND_GROUP = "Night Owl Translations"
EXTERNAL_HOST = "https://mangaplus.example.com/viewer"
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z]{2,4})?$")
_FLAG_VALUES = {"0": False, "1": True, "false": False, "true": True}


@dataclass(frozen=True)
class _FeedChapter:
    id: str
    series: FakeSeries
    chapter: FakeChapter
    language: str
    volume: str
    groups: tuple[str, ...] = ()
    external_url: str | None = None
    # "future" (publishAt still ahead) or "unavailable" (taken down): left out on request.
    withheld: str | None = None

    @property
    def hash(self) -> str:
        return hashlib.sha1(self.id.encode()).hexdigest()

    def files(self) -> list[str]:
        return [f"{n}-{self.hash[:12]}.png" for n in range(1, self.chapter.pages + 1)]


def _content_rating(index: int) -> str:
    # A few titles are rated above "safe", so content filters and the nsfw flag have work to do.
    return "erotica" if index % 13 == 5 else "suggestive" if index % 7 == 3 else "safe"


class FakeMangaDexSite(FakeSite):
    kind = "mangadex"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ratings = {s.id: _content_rating(i) for i, s in enumerate(self.catalog.series)}
        self.feeds: dict[str, list[_FeedChapter]] = {}
        self.chapters: dict[str, _FeedChapter] = {}
        self.by_hash: dict[str, _FeedChapter] = {}
        self.clock: Callable[[], float] = time.monotonic
        self.node_ttl = NODE_TTL
        self.node_tokens: dict[str, float] = {}  # token -> when it was handed out
        self.at_home_requests = 0
        self.reports: list[dict[str, Any]] = []
        self._token_numbers = itertools.count(1)
        self.at_home_limit: tuple[int, float] | None = None
        self._at_home_times: deque[float] = deque()
        # Chapters the feed lists only when not asked to leave them out (future, unavailable).
        self.withheld: dict[str, list[_FeedChapter]] = {}
        self.french_only = self.catalog.series[-1].id
        for position, series in enumerate(self.catalog.series):
            self.feeds[series.id] = []
            self.withheld[series.id] = []
            for index, chapter in enumerate(series.chapters):
                self._publish(series, chapter, index)
            if position % 3 == 1 and series.id != self.french_only:
                self._publish_extras(series)

    def _languages(self, series: FakeSeries, index: int) -> tuple[str, ...]:
        if series.id == self.french_only:
            return ("fr",)
        # Every chapter in English, every third also in Spanish.
        return ("en", "es") if index % 3 == 0 else ("en",)

    def _publish(self, series: FakeSeries, chapter: FakeChapter, index: int) -> None:
        groups = (f"{self.name} scans", SECOND_GROUP) if index % 4 == 2 else (f"{self.name} scans",)
        for language in self._languages(series, index):
            self._add(
                _FeedChapter(
                    id=_uuid(series.id, chapter.number, language),
                    series=series,
                    chapter=chapter,
                    language=language,
                    volume=str(index // 10 + 1),
                    groups=groups,
                )
            )

    def _publish_extras(self, series: FakeSeries) -> None:
        """An official chapter hosted elsewhere, one scheduled for next month, one taken down."""
        last = series.chapters[-1]
        base = int(float(last.number)) + 1
        extras = (
            (str(base), "external", None),
            (str(base + 1), None, "future"),
            (str(base + 2), None, "unavailable"),
        )
        for number, external, withheld in extras:
            when = last.published_at + (timedelta(days=30) if withheld == "future" else timedelta())
            chapter = replace(last, number=number, title=f"Extra {number}", published_at=when)
            item = _FeedChapter(
                id=_uuid(series.id, number, "en", "extra"),
                series=series,
                chapter=replace(chapter, pages=0) if external else chapter,
                language="en",
                volume=str(len(series.chapters) // 10 + 1),
                groups=(f"{self.name} scans",),
                external_url=f"{EXTERNAL_HOST}/{series.slug}/{number}" if external else None,
                withheld=withheld,
            )
            self._add(item)

    def _add(self, item: _FeedChapter) -> None:
        (self.withheld if item.withheld else self.feeds)[item.series.id].append(item)
        self.chapters[item.id] = item
        self.by_hash[item.hash] = item

    def chapter_added(self, series: FakeSeries, chapter: FakeChapter) -> None:
        self._publish(series, chapter, len(series.chapters) - 1)

    @property
    def title(self) -> str:
        return "Fake MangaDex" if self.name == "fake-mangadex" else self.name

    def definition_params(self) -> dict[str, Any]:
        return {
            "api_url": self.url,
            "uploads_url": self.url,
            "report_url": f"{self.url}/report",
            "rate_limit": 50,
            "at_home_rate": 20,
            "health": {"url": f"{self.url}/ping", "keyword": "pong", "canary_query": "the"},
        }

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self._index),
            Route("/ping", self._ping),
            Route("/title/{manga_id}", self._title_page),
            Route("/manga", self._manga_list),
            Route("/manga/{manga_id}", self._manga),
            Route("/manga/{manga_id}/feed", self._feed),
            Route("/at-home/server/{chapter_id}", self._at_home),
            Route("/covers/{manga_id}/{file}", self._cover),
            Route("/node/{token}/data/{hash}/{file}", self._page),
            Route("/node/{token}/data-saver/{hash}/{file}", self._page),
            Route("/report", self._report, methods=["POST"]),
        ]

    # -- JSON documents ---------------------------------------------------------------------

    def _json(self, payload: dict[str, Any], status_code: int = 200) -> JSONResponse:
        if self.layout_changed and status_code == 200:
            payload = {"status": "success", "payload": payload}
        return JSONResponse(payload, status_code=status_code)

    @staticmethod
    def _error(status: int, title: str, detail: str) -> JSONResponse:
        error = {"id": str(uuid.uuid4()), "status": status, "title": title, "detail": detail}
        return JSONResponse({"result": "error", "errors": [{**error, "context": None}]}, status)

    def _cover_file(self, series: FakeSeries) -> str:
        return f"{_uuid(series.id, 'cover')}.jpg"

    def _manga_json(self, series: FakeSeries, includes: list[str]) -> dict[str, Any]:
        def related(kind: str, rel_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
            rel: dict[str, Any] = {"id": rel_id, "type": kind}
            if kind in includes:
                rel["attributes"] = attributes
            return rel

        stamp = series.chapters[0].published_at.isoformat()
        relationships = [
            related("author", _uuid("author", name), {"name": name}) for name in series.authors
        ]
        relationships.append(
            related(
                "cover_art",
                _uuid(series.id, "cover"),
                {"description": "", "volume": "1", "fileName": self._cover_file(series)},
            )
        )
        return {
            "id": series.id,
            "type": "manga",
            "attributes": {
                "title": {"en": series.title},
                "altTitles": [{"en": alt} for alt in series.alt_titles]
                + [{"ja-ro": series.slug.replace("-", " ")}],
                "description": {"en": series.description} if series.description else [],
                "isLocked": False,
                "links": {},
                "originalLanguage": "ja",
                "status": series.status,
                "year": series.year,
                "contentRating": self.ratings[series.id],
                "tags": [
                    {
                        "id": _uuid("tag", genre),
                        "type": "tag",
                        "attributes": {
                            "name": {"en": genre},
                            "description": [],
                            "group": "genre",
                            "version": 1,
                        },
                        "relationships": [],
                    }
                    for genre in series.genres
                ],
                "state": "published",
                "createdAt": stamp,
                "updatedAt": stamp,
                "availableTranslatedLanguages": sorted(self.available_languages(series)),
                "version": 1,
            },
            "relationships": relationships,
        }

    def _chapter_json(self, item: _FeedChapter, includes: list[str]) -> dict[str, Any]:
        groups: list[dict[str, Any]] = []
        for name in item.groups:
            group: dict[str, Any] = {"id": _uuid("group", name), "type": "scanlation_group"}
            if "scanlation_group" in includes:
                group["attributes"] = {"name": name}
            groups.append(group)
        stamp = item.chapter.published_at.isoformat()
        return {
            "id": item.id,
            "type": "chapter",
            "attributes": {
                "volume": item.volume,
                "chapter": item.chapter.number,
                "title": item.chapter.title,
                "translatedLanguage": item.language,
                "externalUrl": item.external_url,
                "isUnavailable": item.withheld == "unavailable",
                "publishAt": stamp,
                "readableAt": stamp,
                "createdAt": stamp,
                "updatedAt": stamp,
                "pages": item.chapter.pages,
                "version": 1,
            },
            "relationships": [
                *groups,
                {"id": item.series.id, "type": "manga"},
            ],
        }

    # -- endpoints --------------------------------------------------------------------------

    @staticmethod
    def _window(request: Request, *, default: int, maximum: int) -> tuple[int, int] | None:
        try:
            limit = int(request.query_params.get("limit", default))
            offset = int(request.query_params.get("offset", 0))
        except ValueError:
            return None
        if not (0 <= limit <= maximum and offset >= 0 and offset + limit <= 10_000):
            return None
        return limit, offset

    def _ratings_allowed(self, request: Request) -> set[str]:
        return set(request.query_params.getlist("contentRating[]") or DEFAULT_RATINGS)

    async def _ping(self, request: Request) -> Response:
        return PlainTextResponse("pong")

    def available_languages(self, series: FakeSeries) -> set[str]:
        return {item.language for item in self.feeds[series.id]}

    @staticmethod
    def _flags(request: Request, *names: str) -> dict[str, bool | None] | str:
        """The boolean query flags given (None when absent), or the name of a malformed one."""
        flags: dict[str, bool | None] = {}
        for name in names:
            value = request.query_params.get(name)
            if value is not None and value not in _FLAG_VALUES:
                return name
            flags[name] = None if value is None else _FLAG_VALUES[value]
        return flags

    @staticmethod
    def _bad_language(request: Request, name: str) -> str | None:
        return next(
            (v for v in request.query_params.getlist(name) if not _LANGUAGE_CODE.match(v)), None
        )

    async def _manga_list(self, request: Request) -> Response:
        window = self._window(request, default=10, maximum=100)
        if window is None:
            return self._error(400, "validation_exception", "limit/offset out of range")
        limit, offset = window
        flags = self._flags(request, "hasAvailableChapters")
        bad = self._bad_language(request, "availableTranslatedLanguage[]")
        if isinstance(flags, str) or bad is not None:
            detail = f"{flags} must be 0/1/true/false" if isinstance(flags, str) else bad
            return self._error(400, "validation_exception", f"invalid parameter: {detail}")
        title = request.query_params.get("title")
        found = self.catalog.search(title) if title else self.catalog.series
        # The two orders a listing uses (the API sorts by any of several fields, descending).
        if request.query_params.get("order[followedCount]") == "desc":
            found = [s for s in self.catalog.popular() if s in found]
        elif request.query_params.get("order[latestUploadedChapter]") == "desc":
            found = [s for s in self.catalog.latest() if s in found]
        allowed = self._ratings_allowed(request)
        found = [s for s in found if self.ratings[s.id] in allowed]
        wanted = set(request.query_params.getlist("availableTranslatedLanguage[]"))
        if wanted and flags["hasAvailableChapters"]:
            found = [s for s in found if self.available_languages(s) & wanted]
        includes = request.query_params.getlist("includes[]")
        data = [self._manga_json(s, includes) for s in found[offset : offset + limit]]
        return self._json(
            {
                "result": "ok",
                "response": "collection",
                "data": data,
                "limit": limit,
                "offset": offset,
                "total": len(found),
            }
        )

    async def _manga(self, request: Request) -> Response:
        series = self.catalog.by_id(request.path_params["manga_id"])
        if series is None:
            return self._error(404, "not_found_http_exception", "Manga could not be found")
        includes = request.query_params.getlist("includes[]")
        return self._json(
            {"result": "ok", "response": "entity", "data": self._manga_json(series, includes)}
        )

    async def _feed(self, request: Request) -> Response:
        series = self.catalog.by_id(request.path_params["manga_id"])
        if series is None:
            return self._error(404, "not_found_http_exception", "Manga could not be found")
        window = self._window(request, default=100, maximum=500)
        if window is None:
            return self._error(400, "validation_exception", "limit/offset out of range")
        limit, offset = window
        flags = self._flags(
            request, "includeFuturePublishAt", "includeUnavailable", "includeExternalUrl",
            "includeEmptyPages", "includeFutureUpdates",
        )  # fmt: skip
        bad = self._bad_language(request, "translatedLanguage[]")
        if isinstance(flags, str) or bad is not None:
            detail = f"{flags} must be 0 or 1" if isinstance(flags, str) else bad
            return self._error(400, "validation_exception", f"invalid parameter: {detail}")
        languages = set(request.query_params.getlist("translatedLanguage[]"))
        listed = [*self.feeds[series.id], *self.withheld[series.id]]
        feed = [
            item
            for item in listed
            if (not languages or item.language in languages)
            and not (item.withheld == "future" and flags["includeFuturePublishAt"] is False)
            and not (item.withheld == "unavailable" and flags["includeUnavailable"] is False)
            and not (item.external_url and flags["includeExternalUrl"] is False)
        ]
        if self.ratings[series.id] not in self._ratings_allowed(request):
            feed = []
        if request.query_params.get("order[chapter]") == "desc":
            feed = feed[::-1]
        includes = request.query_params.getlist("includes[]")
        return self._json(
            {
                "result": "ok",
                "response": "collection",
                "data": [
                    self._chapter_json(item, includes) for item in feed[offset : offset + limit]
                ],
                "limit": limit,
                "offset": offset,
                "total": len(feed),
            }
        )

    async def _at_home(self, request: Request) -> Response:
        item = self.chapters.get(request.path_params["chapter_id"])
        if item is None:
            return self._error(404, "not_found_http_exception", "Chapter could not be found")
        limited = self._over_at_home_limit()
        if limited is not None:
            return limited
        files = [] if item.external_url else item.files()
        self.at_home_requests += 1
        token = f"t{next(self._token_numbers)}"
        self.node_tokens[token] = self.clock()
        return self._json(
            {
                "result": "ok",
                "baseUrl": f"{self.request_base(request)}/node/{token}",
                "chapter": {"hash": item.hash, "data": files, "dataSaver": files},
            }
        )

    def _over_at_home_limit(self) -> Response | None:
        """MangaDex's answer past the at-home budget: 429 with the limit headers and the
        Unix time the window frees up."""
        if self.at_home_limit is None:
            return None
        count, window = self.at_home_limit
        now = time.time()
        while self._at_home_times and now - self._at_home_times[0] > window:
            self._at_home_times.popleft()
        if len(self._at_home_times) >= count:
            oldest = self._at_home_times[0] if self._at_home_times else now
            until = int(oldest + window) + 1
            response = self._error(429, "ratelimit_http_exception", "You are being rate limited")
            response.headers["X-RateLimit-Limit"] = str(count)
            response.headers["X-RateLimit-Remaining"] = "0"
            response.headers["X-RateLimit-Retry-After"] = str(until)
            return response
        self._at_home_times.append(now)
        return None

    # -- images and pages -------------------------------------------------------------------

    async def _cover(self, request: Request) -> Response:
        if self.hotlinked(request):
            return self.hotlink_refusal()
        series = self.catalog.by_id(request.path_params["manga_id"])
        if series is None or not request.path_params["file"].startswith(self._cover_file(series)):
            return PlainTextResponse("Not Found", status_code=404)
        return Response(cover_svg(series.title, series.hue, "MangaDex (fake)"), media_type=SVG)

    def expire_nodes(self) -> None:
        """Every at-home base URL handed out so far stops working."""
        self.node_tokens = dict.fromkeys(self.node_tokens, -self.node_ttl - 1)

    async def _report(self, request: Request) -> Response:
        try:
            report = await request.json()
        except ValueError:
            return self._error(400, "bad_request_http_exception", "Body is not JSON")
        self.reports.append(report)
        return self._json({"result": "ok"})

    async def _page(self, request: Request) -> Response:
        issued = self.node_tokens.get(request.path_params["token"])
        if issued is None or self.clock() - issued > self.node_ttl:
            return PlainTextResponse("Token expired", status_code=403)
        if self.hotlinked(request):
            return self.hotlink_refusal()
        item = self.by_hash.get(request.path_params["hash"])
        name = request.path_params["file"]
        if item is None or name not in item.files():
            return PlainTextResponse("Not Found", status_code=404)
        page = item.files().index(name) + 1
        body = page_svg(item.series.title, item.chapter.number, page, item.series.hue)
        return Response(body, media_type=SVG)

    async def _index(self, request: Request) -> Response:
        items = "".join(
            f'<li><a href="/title/{s.id}">{escape(s.title)}</a></li>' for s in self.catalog.series
        )
        return HTMLResponse(
            f"<!doctype html><title>{escape(self.name)}</title><h1>{escape(self.name)}</h1>"
            f"<p>A fake MangaDex API (v5 shapes) for Kurobara.</p><ul>{items}</ul>"
        )

    async def _title_page(self, request: Request) -> Response:
        series = self.catalog.by_id(request.path_params["manga_id"])
        if series is None:
            return HTMLResponse("<h1>Not found</h1>", status_code=404)
        cover = f"/covers/{series.id}/{self._cover_file(series)}.512.jpg"
        return HTMLResponse(
            f"<!doctype html><title>{escape(series.title)}</title>"
            f"<h1>{escape(series.title)}</h1><img src='{cover}' width=256>"
            f"<p>{escape(series.description)}</p>"
        )
