"""A fake MangaDex: the v5 API shapes (manga list, manga, chapter feed, at-home server) and the
uploads host (covers, page images) served from a generated catalog, on one loopback port.

Page images come from a MangaDex@Home "node" as the real ones do: the at-home endpoint hands
out a base URL with an access token (``/node/<token>``) that expires after ``node_ttl``
seconds of the site's ``clock`` (403 after that), nodes refuse hotlinked requests (a foreign
Referer, a browser's cross-site fetch), and ``POST /report`` records what clients report about
their node fetches in ``reports``.

With the ``layout`` fault every JSON endpoint answers in a different shape (as if the API had
moved to a new version), so a client built for the real shapes fails with ``parse``.
"""

from __future__ import annotations

import hashlib
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _FeedChapter:
    id: str
    series: FakeSeries
    chapter: FakeChapter
    language: str
    volume: str

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
        for series in self.catalog.series:
            self.feeds[series.id] = []
            for index, chapter in enumerate(series.chapters):
                self._publish(series, chapter, index)

    def _publish(self, series: FakeSeries, chapter: FakeChapter, index: int) -> None:
        # Every chapter in English, every third also in Spanish.
        for language in ("en", "es") if index % 3 == 0 else ("en",):
            item = _FeedChapter(
                id=_uuid(series.id, chapter.number, language),
                series=series,
                chapter=chapter,
                language=language,
                volume=str(index // 10 + 1),
            )
            self.feeds[series.id].append(item)
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
                "availableTranslatedLanguages": ["en", "es"],
                "version": 1,
            },
            "relationships": relationships,
        }

    def _chapter_json(self, item: _FeedChapter, includes: list[str]) -> dict[str, Any]:
        group: dict[str, Any] = {"id": _uuid("group", self.name), "type": "scanlation_group"}
        if "scanlation_group" in includes:
            group["attributes"] = {"name": f"{self.name} scans"}
        stamp = item.chapter.published_at.isoformat()
        return {
            "id": item.id,
            "type": "chapter",
            "attributes": {
                "volume": item.volume,
                "chapter": item.chapter.number,
                "title": item.chapter.title,
                "translatedLanguage": item.language,
                "externalUrl": None,
                "publishAt": stamp,
                "readableAt": stamp,
                "createdAt": stamp,
                "updatedAt": stamp,
                "pages": item.chapter.pages,
                "version": 1,
            },
            "relationships": [
                group,
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

    async def _manga_list(self, request: Request) -> Response:
        window = self._window(request, default=10, maximum=100)
        if window is None:
            return self._error(400, "validation_exception", "limit/offset out of range")
        limit, offset = window
        title = request.query_params.get("title")
        found = self.catalog.search(title) if title else self.catalog.series
        allowed = self._ratings_allowed(request)
        found = [s for s in found if self.ratings[s.id] in allowed]
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
        languages = set(request.query_params.getlist("translatedLanguage[]"))
        feed = [
            item for item in self.feeds[series.id] if not languages or item.language in languages
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
        files = item.files()
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
