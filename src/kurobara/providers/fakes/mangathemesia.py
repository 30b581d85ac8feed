"""A fake WordPress "MangaThemesia" site, written from the theme's public markup: search cards
(``.listupd .bs .bsx``, light novels marked ``span.novelabel``), the series page
(``.bigcontent``, ``.tsinfo .imptdt`` rows, ``#chapterlist``), chapters at the site's root and
their reader (``#readerarea``). Under the ``layout`` fault the theme's classes are renamed.

``VARIANTS`` (switchable from the hub): ``pages`` ``html`` (images in ``#readerarea``) or
``script`` (an empty reader filled by ``ts_reader.run({...})``, as many installs do), and
``premium`` ``latest`` (the newest chapter of every series behind the coin modal).
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from kurobara.providers.fakes.catalog import FakeChapter, FakeSeries
from kurobara.providers.fakes.images import cover_svg, page_svg
from kurobara.providers.fakes.server import FakeSite

PAGE_SIZE = 10
NOVEL_EVERY = 7  # every seventh series is a light novel, as on mixed manga/novel sites
_STATUS = {"ongoing": "Ongoing", "completed": "Completed", "hiatus": "Hiatus"}
_THEME = {
    "listupd": "listupd", "bs": "bs", "bsx": "bsx", "bigor": "bigor", "tt": "tt",
    "bigcontent": "bigcontent", "title": "entry-title", "thumb": "thumb", "tsinfo": "tsinfo",
    "imptdt": "imptdt", "mgen": "mgen", "chapterlist": "chapterlist", "chapternum": "chapternum",
    "chapterdate": "chapterdate", "readerarea": "readerarea", "bxcl": "bxcl",
}  # fmt: skip
_REDESIGN = {key: f"nx-{key}" for key in _THEME}


_ORDERS = {"popular": "popular", "update": "latest"}


def chapter_slug(series: FakeSeries, chapter: FakeChapter) -> str:
    return f"{series.slug}-chapter-{chapter.number.replace('.', '-')}"


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f'<!DOCTYPE html><html lang="en-US"><head><meta charset="UTF-8"><title>{escape(title)}'
        f'</title></head><body class="darkmode"><div id="content"><div class="wrapper">{body}'
        "</div></div></body></html>",
        status_code=status_code,
    )


class FakeMangaThemesiaSite(FakeSite):
    kind = "mangathemesia"
    VARIANTS = {"pages": ("html", "script"), "premium": ("none", "latest")}

    def definition_params(self) -> dict[str, Any]:
        return {"health": {"keyword": "listupd", "canary_query": "a"}}

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self._home),
            Route("/manga/", self._search),
            Route("/manga/{slug}/", self._series),
            Route("/wp-content/uploads/covers/{slug}.svg", self._cover),
            Route("/wp-content/uploads/pages/{chapter}/{page:int}.svg", self._image),
            Route("/{chapter}/", self._reader),
        ]

    @property
    def _c(self) -> dict[str, str]:
        return _REDESIGN if self.layout_changed else _THEME

    def is_novel(self, series: FakeSeries) -> bool:
        if series.shared:
            return False
        return self.catalog.series.index(series) % NOVEL_EVERY == NOVEL_EVERY - 1

    def locked(self, series: FakeSeries, chapter: FakeChapter) -> bool:
        return self.variants["premium"] == "latest" and chapter is series.chapters[-1]

    def _find_chapter(self, slug: str) -> tuple[FakeSeries, FakeChapter] | None:
        for series in self.catalog.series:
            if slug.startswith(series.slug + "-chapter-"):
                for chapter in series.chapters:
                    if chapter_slug(series, chapter) == slug:
                        return series, chapter
        return None

    def _not_found(self) -> HTMLResponse:
        return _page("Page not found", "<h1>404</h1><p>Nothing here.</p>", status_code=404)

    def _card(self, base: str, series: FakeSeries) -> str:
        c = self._c
        novel = '<span class="novelabel">Novel</span>' if self.is_novel(series) else ""
        return (
            f'<div class="{c["bs"]}"><div class="{c["bsx"]}"><a href="{base}/manga/{series.slug}/"'
            f' title="{escape(series.title)}"><div class="limit">{novel}<span class="type Manhwa">'
            f'</span><img src="{base}/wp-content/uploads/covers/{series.slug}.svg" '
            f'class="ts-post-image wp-post-image"></div><div class="{c["bigor"]}">'
            f'<div class="{c["tt"]}">{escape(series.title)}</div><div class="adds">'
            f'<div class="epxs">Chapter {series.chapters[-1].number}</div></div></div></a>'
            "</div></div>"
        )

    async def _home(self, request: Request) -> Response:
        base = self.request_base(request)
        cards = "".join(self._card(base, s) for s in self.catalog.series[:12])
        return _page(self.title, f'<div class="{self._c["listupd"]}">{cards}</div>')

    async def _search(self, request: Request) -> Response:
        base, query = self.request_base(request), request.query_params.get("title", "")
        page = request.query_params.get("page", "1")
        number = int(page) if page.isdigit() and int(page) > 0 else 1
        found = self.catalog.search(query) if query.strip() else self.catalog.series
        # The list's sort select: "popular" and "update" (newest chapter) among the theme's own.
        order = _ORDERS.get(request.query_params.get("order", ""))
        if order is not None:
            found = [s for s in self.catalog.listing(order) if s in found]
        shown = found[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        cards = "".join(self._card(base, s) for s in shown)
        more = '<div class="hpage"><a class="r" href="?page=2">Next</a></div>' if shown else ""
        return _page("Manga List", f'<div class="{self._c["listupd"]}">{cards}</div>{more}')

    async def _series(self, request: Request) -> Response:
        series = self.catalog.by_slug(request.path_params["slug"])
        if series is None:
            return self._not_found()
        base, c = self.request_base(request), self._c
        genres = "".join(
            f'<a href="{base}/genres/{g.lower()}/" rel="tag">{g}</a>' for g in series.genres
        )
        kind = "Novel" if self.is_novel(series) else "Manhwa"
        rows = (
            f'<div class="{c["imptdt"]}">Status <i>{_STATUS[series.status]}</i></div>'
            f'<div class="{c["imptdt"]}">Type <a href="{base}/manga/?type={kind.lower()}">{kind}'
            f'</a></div><div class="{c["imptdt"]}">Released <i>{series.year}</i></div>'
            f'<div class="{c["imptdt"]}">Author <i>{escape(", ".join(series.authors))}</i></div>'
        )
        items = "".join(self._chapter_item(base, series, ch) for ch in reversed(series.chapters))
        description = "".join(f"<p>{escape(p)}</p>" for p in series.description.split(". ") if p)
        body = (
            f'<div class="{c["bigcontent"]}"><div class="{c["thumb"]}"><img '
            f'src="{base}/wp-content/uploads/covers/{series.slug}.svg"></div><div class="infox">'
            f'<h1 class="{c["title"]}">{escape(series.title)}</h1>'
            f'<span class="alternative">{escape(", ".join(series.alt_titles))}</span>'
            f'<div class="wd-full"><span class="{c["mgen"]}">{genres}</span></div>'
            f'<div class="wd-full"><div class="entry-content entry-content-single" '
            f'itemprop="description">{description}</div></div></div>'
            f'<div class="{c["tsinfo"]}">{rows}</div></div>'
            f'<div class="bixbox {c["bxcl"]} epcheck">'
            f'<div class="eplister" id="{c["chapterlist"]}">'
            f"<ul>{items}</ul></div></div>"
        )
        return _page(series.title, body)

    def _chapter_item(self, base: str, series: FakeSeries, chapter: FakeChapter) -> str:
        c, when = self._c, chapter.published_at
        lock = (
            '<a data-bs-toggle="modal" data-bs-target="#lockedChapterModal">'
            '<span class="lock-icon">coins</span></a>'
            if self.locked(series, chapter)
            else ""
        )
        return (
            f'<li data-num="{chapter.number}"><div class="chbox"><div class="eph-num">'
            f'<a href="{base}/{chapter_slug(series, chapter)}/">'
            f'<span class="{c["chapternum"]}">Chapter {chapter.number}</span>'
            f'<span class="{c["chapterdate"]}">{when:%B} {when.day}, {when.year}</span></a>'
            f"{lock}</div></div></li>"
        )

    async def _reader(self, request: Request) -> Response:
        found = self._find_chapter(request.path_params["chapter"])
        if found is None:
            return self._not_found()
        series, chapter = found
        base, c = self.request_base(request), self._c
        urls = [
            f"{base}/wp-content/uploads/pages/{chapter_slug(series, chapter)}/{n}.svg"
            for n in range(1, chapter.pages + 1)
        ]
        title = f"{series.title} Chapter {chapter.number}"
        if self.variants["pages"] == "script":
            data = {
                "post_id": 1, "noimagehtml": "<center>No image</center>", "prevUrl": "",
                "nextUrl": "", "mode": "full", "sources": [{"source": "Server 1", "images": urls}],
                "lazyload": True, "defaultSource": "Server 1", "lazyloadlimit": 3,
            }  # fmt: skip
            body = (
                f'<div id="{c["readerarea"]}" class="rdminimal"></div>'
                f"<script>ts_reader.run({json.dumps(data)});</script>"
            )
        else:
            imgs = "".join(f'<img class="ts-main-image" src="{u}" data-index="{i}">'
                           for i, u in enumerate(urls))  # fmt: skip
            body = f'<div id="{c["readerarea"]}">{imgs}</div>'
        return _page(title, body)

    async def _cover(self, request: Request) -> Response:
        series = self.catalog.by_slug(request.path_params["slug"])
        if series is None:
            return self._not_found()
        return Response(cover_svg(series.title, series.hue, self.title), media_type="image/svg+xml")

    async def _image(self, request: Request) -> Response:
        found = self._find_chapter(request.path_params["chapter"])
        page = request.path_params["page"]
        if found is None or not 1 <= page <= found[1].pages:
            return self._not_found()
        series, chapter = found
        svg = page_svg(series.title, chapter.number, page, series.hue)
        return Response(svg, media_type="image/svg+xml")
