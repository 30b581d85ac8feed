"""A fake plain-HTML manga site for the ``html`` kind, and the definition (every selector) that
reads it. Under the ``layout`` fault the same content comes with renamed classes, so that the
definition's selectors no longer match."""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from kurobara.providers.fakes.catalog import FakeSeries
from kurobara.providers.fakes.images import cover_svg, page_svg
from kurobara.providers.fakes.server import FakeSite

PAGE_SIZE = 12

_CLASSES = (
    "series-grid", "results", "hit", "hit-link", "hit-cover", "hit-title", "hit-status",
    "series-title", "alt-titles", "synopsis", "series-cover", "genres", "series-status",
    "series-year", "series-authors", "chapter-table", "chapter-row", "chapter-number",
    "chapter-link", "chapter-date", "page-image",
)  # fmt: skip
_LAYOUT = {name: name for name in _CLASSES} | {"reader": "reader"}
# The redesign: same content, every class (and the reader's id) renamed.
_REDESIGN = {name: "v2_" + name.replace("-", "_") for name in _LAYOUT}


def _document(title: str, body: str, *, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f'</title></head><body><header><a href="/">Home</a> <form action="/search">'
        f'<input name="q"></form></header><main>{body}</main></body></html>',
        status_code=status_code,
    )


class FakeHtmlSite(FakeSite):
    kind = "html"

    def definition_params(self) -> dict[str, Any]:
        return {
            "search_url": "/search?q={query}&page={page}",
            "search": {
                "container": "section.results",
                "item": "article.hit",
                "title": ".hit-title",
                "link": "a.hit-link",
                "cover": "img.hit-cover",
                "status": ".hit-status",
            },
            "manga": {
                "url": "/series/{id}",
                "id_pattern": "^/series/([^/]+)$",
                "title": "h1.series-title",
                "description": ".synopsis",
                "cover": "img.series-cover",
                "genres": ".genres a",
                "status": ".series-status",
                "alt_titles": ".alt-titles li",
                "authors": ".series-authors a",
                "year": ".series-year",
            },
            "chapters": {
                "url": "/series/{id}/chapters",
                "id_pattern": "^/read/(.+)$",
                "container": "table.chapter-table",
                "item": "tr.chapter-row",
                "link": "a.chapter-link",
                "number": ".chapter-number",
                "date": ".chapter-date",
                "date_format": "%Y-%m-%d",
                "order": "oldest_first",
            },
            "pages": {
                "url": "/read/{id}",
                "container": "#reader",
                "image": "img.page-image",
                "attribute": "data-src",
            },
            # A class only the home page renders, and a letter most titles contain.
            "health": {"keyword": "series-grid", "canary_query": "a"},
        }

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self._home),
            Route("/search", self._search),
            Route("/series/{slug}", self._series),
            Route("/series/{slug}/chapters", self._chapters),
            Route("/read/{slug}/{number}", self._reader),
            Route("/covers/{slug}.svg", self._cover),
            Route("/pages/{slug}/{number}/{page:int}.svg", self._image),
        ]

    @property
    def _c(self) -> dict[str, str]:
        return _REDESIGN if self.layout_changed else _LAYOUT

    def _not_found(self) -> HTMLResponse:
        return _document("Not found", "<h1>404</h1><p>No such page.</p>", status_code=404)

    async def _home(self, request: Request) -> Response:
        links = "".join(
            f'<li><a href="/series/{s.slug}">{escape(s.title)}</a></li>'
            for s in self.catalog.series[:20]
        )
        body = f'<h1>{escape(self.title)}</h1><ul class="{self._c["series-grid"]}">{links}</ul>'
        return _document(self.title, body)

    async def _search(self, request: Request) -> Response:
        c, query = self._c, request.query_params.get("q", "")
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page = 1
        found = self.catalog.search(query) if query.strip() else []
        hits = "".join(
            f'<article class="{c["hit"]}"><a class="{c["hit-link"]}" href="/series/{s.slug}">'
            f'<img class="{c["hit-cover"]}" src="/static/blank.gif" '
            f'data-lazy-src="/covers/{s.slug}.svg" alt=""><h2 class="{c["hit-title"]}">'
            f'{escape(s.title)}</h2></a><span class="{c["hit-status"]}">{s.status.title()}'
            f"</span></article>"
            for s in found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        )
        body = f'<h1>Search: {escape(query)}</h1><section class="{c["results"]}">{hits}</section>'
        return _document(f"Search {query}", body)

    def _lookup(self, request: Request) -> FakeSeries | None:
        return self.catalog.by_slug(request.path_params["slug"])

    async def _series(self, request: Request) -> Response:
        series = self._lookup(request)
        if series is None:
            return self._not_found()
        c = self._c
        alts = "".join(f"<li>{escape(a)}</li>" for a in series.alt_titles)
        genres = "".join(f'<li><a href="/genre/{g.lower()}">{g}</a></li>' for g in series.genres)
        authors = "".join(f'<a href="/author/1">{escape(a)}</a>' for a in series.authors)
        cover = f"/covers/{series.slug}.svg"
        body = (
            f'<h1 class="{c["series-title"]}">{escape(series.title)}</h1>'
            f'<ul class="{c["alt-titles"]}">{alts}</ul>'
            f'<img class="{c["series-cover"]}" srcset="{cover}?w=150 150w, {cover} 300w" '
            f'src="{cover}?w=150" alt="cover">'
            f'<div class="{c["synopsis"]}"><p>{escape(series.description)}</p></div>'
            f'<ul class="{c["genres"]}">{genres}</ul><dl>'
            f'<dt>Status</dt><dd class="{c["series-status"]}">{series.status.title()}</dd>'
            f'<dt>Year</dt><dd class="{c["series-year"]}">{series.year}</dd>'
            f'<dt>Author</dt><dd class="{c["series-authors"]}">{authors}</dd></dl>'
            f'<a href="/series/{series.slug}/chapters">All chapters</a>'
        )
        return _document(series.title, body)

    async def _chapters(self, request: Request) -> Response:
        series = self._lookup(request)
        if series is None:
            return self._not_found()
        c = self._c
        rows = "".join(
            f'<tr class="{c["chapter-row"]}"><td class="{c["chapter-number"]}">{ch.number}</td>'
            f'<td><a class="{c["chapter-link"]}" href="/read/{series.slug}/{ch.number}">'
            f"{escape(ch.title.partition(': ')[2] or ch.title)}</a></td>"
            f'<td class="{c["chapter-date"]}">{ch.published_at:%Y-%m-%d}</td></tr>'
            for ch in series.chapters
        )
        body = f'<table class="{c["chapter-table"]}"><tbody>{rows}</tbody></table>'
        return _document(f"{series.title} chapters", body)

    async def _reader(self, request: Request) -> Response:
        series = self._lookup(request)
        chapter = series.chapter(request.path_params["number"]) if series else None
        if series is None or chapter is None:
            return self._not_found()
        c = self._c
        images = "".join(
            f'<figure><img class="{c["page-image"]}" src="/static/loading.gif" '
            f'data-src="/pages/{series.slug}/{chapter.number}/{n}.svg"></figure>'
            for n in range(1, chapter.pages + 1)
        )
        return _document(chapter.title, f'<div id="{c["reader"]}">{images}</div>')

    async def _cover(self, request: Request) -> Response:
        if self.hotlinked(request):
            return self.hotlink_refusal()
        series = self._lookup(request)
        if series is None:
            return self._not_found()
        return Response(cover_svg(series.title, series.hue, self.title), media_type="image/svg+xml")

    async def _image(self, request: Request) -> Response:
        if self.hotlinked(request):
            return self.hotlink_refusal()
        series = self._lookup(request)
        chapter = series.chapter(request.path_params["number"]) if series else None
        page = request.path_params["page"]
        if series is None or chapter is None or not 1 <= page <= chapter.pages:
            return self._not_found()
        svg = page_svg(series.title, chapter.number, page, series.hue)
        return Response(svg, media_type="image/svg+xml")
