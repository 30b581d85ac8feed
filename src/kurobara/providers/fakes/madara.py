"""A fake WordPress "Madara" site: the theme's search page, series page, both AJAX chapter-list
endpoints, the reader page, and generated cover and page images. Under the ``layout`` fault the
markup keeps its content but renames the theme's classes, as a theme update would."""

from __future__ import annotations

import re
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from kurobara.providers.fakes.catalog import FakeChapter, FakeSeries
from kurobara.providers.fakes.images import cover_svg, page_svg
from kurobara.providers.fakes.server import FakeSite

PAGE_SIZE = 10
_LAZY_STAND_IN = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
_STATUS_WORDS = {"ongoing": "OnGoing", "completed": "Completed", "hiatus": "On Hold"}

# The theme's class names, and what a redesign turns them into.
_THEME = {
    "home_item": "page-item-detail",
    "search_outer": "tab-content-wrap",
    "search_wrap": "c-tabs-item",
    "search_item": "row c-tabs-item__content",
    "thumb": "tab-thumb c-image-hover",
    "title": "post-title",
    "summary_image": "summary_image",
    "item": "post-content_item",
    "heading": "summary-heading",
    "value": "summary-content",
    "genres": "genres-content",
    "status_box": "post-status",
    "description": "description-summary",
    "description_inner": "summary__content show-more",
    "holder": "manga-chapters-holder",
    "listing": "page-content-listing single-page",
    "listing_wrap": "listing-chapters_wrap cols-1 show-more",
    "chapters_ul": "main version-chap no-volumn",
    "chapter": "wp-manga-chapter",
    "date": "chapter-release-date",
    "reading": "reading-content",
    "page_break": "page-break no-gaps",
}
# Every class renamed, so that no theme selector matches any more.
_REDESIGN = {key: f"mx-{key.replace('_', '-')}" for key in _THEME}


def chapter_slug(chapter: FakeChapter) -> str:
    return "chapter-" + chapter.number.replace(".", "-")


def chapter_label(chapter: FakeChapter) -> str:
    """What the site shows: the real number (10.5 for an extra) and the chapter's name."""
    return f"Chapter {chapter.number}: {chapter.title.partition(': ')[2] or chapter.title}"


def _sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.!?])\s+", text) if part]


def _page(body_class: str, title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f'<!DOCTYPE html><html lang="en-US"><head><meta charset="UTF-8">'
        f'<title>{escape(title)}</title></head><body class="{body_class}">'
        f'<div class="wrap"><div class="body-wrap"><div class="site-content">{body}'
        f"</div></div></div></body></html>"
    )


class FakeMadaraSite(FakeSite):
    kind = "madara"

    def __init__(self, *, manga_path: str = "manga", **kwargs: Any) -> None:
        # routes() runs inside FakeSite.__init__, and needs the path.
        self.manga_path = manga_path.strip("/")
        super().__init__(**kwargs)
        self.post_ids = {series.id: 1000 + i for i, series in enumerate(self.catalog.series)}
        self._by_post_id = {pid: self.catalog.by_id(sid) for sid, pid in self.post_ids.items()}

    def chapter_added(self, series: FakeSeries, chapter: FakeChapter) -> None:
        self._by_post_id[self.post_ids[series.id]] = series

    def definition_params(self) -> dict[str, Any]:
        return {
            "manga_path": self.manga_path,
            "chapters_endpoint": "new",
            # A class only the theme's home page renders, and a letter most titles contain.
            "health": {"keyword": "page-item-detail", "canary_query": "a"},
        }

    def routes(self) -> list[BaseRoute]:
        series = f"/{self.manga_path}/{{slug}}/"
        return [
            Route("/", self._index),
            Route("/page/{page:int}/", self._index),
            Route(series, self._series),
            Route(series + "ajax/chapters/", self._ajax_chapters, methods=["POST"]),
            Route(series + "{chapter}/", self._reader),
            Route("/wp-admin/admin-ajax.php", self._admin_ajax, methods=["POST"]),
            Route("/wp-content/uploads/covers/{slug}.svg", self._cover),
            Route("/wp-content/uploads/WP-manga/data/{slug}/{chapter}/{page:int}.svg", self._image),
        ]

    # -- helpers -------------------------------------------------------------------------------

    @property
    def _c(self) -> dict[str, str]:
        return _REDESIGN if self.layout_changed else _THEME

    def _series_url(self, base: str, series: FakeSeries) -> str:
        return f"{base}/{self.manga_path}/{series.slug}/"

    def _row(self, heading: str, value: str, extra: str = "") -> str:
        c = self._c
        return (
            f'<div class="{c["item"]} {extra}"><div class="{c["heading"]}"><h5>{heading}</h5>'
            f'</div><div class="{c["value"]}">{value}</div></div>'
        )

    def _not_found(self) -> HTMLResponse:
        response = _page("error404", "Page not found", "<h1>Oops! That page can't be found.</h1>")
        response.status_code = 404
        return response

    # -- pages ---------------------------------------------------------------------------------

    async def _index(self, request: Request) -> Response:
        if "s" in request.query_params:
            return self._search(request, request.query_params["s"])
        base, c = self.request_base(request), self._c
        items = "".join(
            f'<div class="{c["home_item"]}"><div class="item-summary"><div class="{c["title"]}">'
            f'<h3 class="h5"><a href="{self._series_url(base, s)}">{escape(s.title)}</a></h3>'
            f"</div></div></div>"
            for s in self.catalog.series[:12]
        )
        return _page("home page-template-default", self.title, items)

    def _search(self, request: Request, query: str) -> Response:
        base, c = self.request_base(request), self._c
        page = int(request.path_params.get("page", 1))
        found = self.catalog.search(query) if query.strip() else []
        shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        if page > 1 and not shown:
            return self._not_found()  # as WordPress does for a page past the last one
        items = "".join(self._search_item(base, s) for s in shown)
        heading = f'<h1 class="h4">{len(found)} results for "{escape(query)}"</h1>'
        body = f'{heading}<div class="{c["search_outer"]}"><div class="{c["search_wrap"]}">{items}'
        body += "" if shown else "<p>No matches found. Try a different search...</p>"
        return _page("search search-results", f"You searched for {query}", body + "</div></div>")

    def _search_item(self, base: str, series: FakeSeries) -> str:
        c, link = self._c, self._series_url(base, series)
        cover = f"/wp-content/uploads/covers/{series.slug}.svg"
        genres = ", ".join(
            f'<a href="{base}/manga-genre/{g.lower()}/">{g}</a>' for g in series.genres
        )
        return (
            f'<div class="{c["search_item"]}"><div class="col-4 col-12 col-md-2">'
            f'<div class="{c["thumb"]}"><a href="{link}" title="{escape(series.title)}">'
            f'<img width="193" height="278" src="{_LAZY_STAND_IN}" data-src="{cover}" '
            f'data-srcset="{cover} 193w, {cover}?w=110 110w" class="img-responsive lazyload">'
            f'</a></div></div><div class="col-8 col-12 col-md-10"><div class="tab-summary">'
            f'<div class="{c["title"]}"><h3 class="h4"><a href="{link}">{escape(series.title)}'
            f'</a></h3></div><div class="post-content">'
            + self._row("Genres", genres, "mg_genres")
            + self._row("Status", _STATUS_WORDS[series.status], "mg_status")
            + "</div></div></div></div>"
        )

    async def _series(self, request: Request) -> Response:
        series = self.catalog.by_slug(request.path_params["slug"])
        if series is None:
            return self._not_found()
        base, c = self.request_base(request), self._c
        cover = f"{base}/wp-content/uploads/covers/{series.slug}.svg"
        genres = ", ".join(
            f'<a href="{base}/manga-genre/{g.lower()}/" rel="tag">{g}</a>' for g in series.genres
        )
        authors = ", ".join(
            f'<a href="{base}/manga-author/a/">{escape(a)}</a>' for a in series.authors
        )
        rows = self._row("Rank", "1st, it has 1K monthly views")
        if series.alt_titles:
            rows += self._row("Alternative", escape(", ".join(series.alt_titles)))
        rows += self._row("Author(s)", f'<div class="author-content">{authors}</div>')
        rows += self._row("Genre(s)", f'<div class="{c["genres"]}">{genres}</div>')
        status = self._row(
            "Release", f'<a href="{base}/manga-release/{series.year}/">{series.year}</a>'
        )
        status += self._row("Status", _STATUS_WORDS[series.status])
        description = "".join(f"<p>{escape(s)}</p>" for s in _sentences(series.description))
        pid = self.post_ids[series.id]
        body = (
            f'<div class="profile-manga"><div class="{c["title"]}"><h1>{escape(series.title)}</h1>'
            f'</div><div class="tab-summary"><div class="{c["summary_image"]}">'
            f'<a href="{self._series_url(base, series)}"><img class="img-responsive" '
            f'src="{cover}" srcset="{cover} 193w" alt="{escape(series.title)}"></a></div>'
            f'<div class="summary_content"><div class="post-content">{rows}</div>'
            f'<div class="{c["status_box"]}">{status}</div></div></div></div>'
            f'<div class="{c["description"]}"><div class="{c["description_inner"]}">'
            f'{description}</div></div><div id="{c["holder"]}" data-id="{pid}"></div>'
        )
        body_class = "wp-manga-template-default single-wp-manga"
        if not self.layout_changed:
            body_class += f" postid-{pid}"
        return _page(body_class, series.title, body)

    def _chapter_list(self, base: str, series: FakeSeries) -> Response:
        c = self._c
        items = "".join(
            f'<li class="{c["chapter"]}"><a href="{self._series_url(base, series)}'
            f'{chapter_slug(ch)}/">{escape(chapter_label(ch))}</a> <span class="{c["date"]}">'
            f"<i>{ch.published_at:%B} {ch.published_at.day}, {ch.published_at.year}</i></span></li>"
            for ch in reversed(series.chapters)
        )
        return HTMLResponse(
            f'<div class="{c["listing"]}"><div class="{c["listing_wrap"]}">'
            f'<ul class="{c["chapters_ul"]}">{items}</ul></div></div>'
        )

    async def _ajax_chapters(self, request: Request) -> Response:
        series = self.catalog.by_slug(request.path_params["slug"])
        if series is None:
            return self._not_found()
        return self._chapter_list(self.request_base(request), series)

    async def _admin_ajax(self, request: Request) -> Response:
        form = await request.form()
        manga = str(form.get("manga", ""))
        series = self._by_post_id.get(int(manga)) if manga.isdigit() else None
        if form.get("action") != "manga_get_chapters" or series is None:
            # What WordPress answers for an unknown action or a bad argument.
            return PlainTextResponse("0", status_code=400)
        return self._chapter_list(self.request_base(request), series)

    async def _reader(self, request: Request) -> Response:
        series = self.catalog.by_slug(request.path_params["slug"])
        slug = request.path_params["chapter"]
        chapter = (
            next((ch for ch in series.chapters if chapter_slug(ch) == slug), None)
            if series
            else None
        )
        if series is None or chapter is None:
            return self._not_found()
        c = self._c
        images = "".join(
            f'<div class="{c["page_break"]}"><img id="image-{n - 1}" data-src="\n\t\t\t'
            f'/wp-content/uploads/WP-manga/data/{series.slug}/{slug}/{n}.svg " '
            f'class="wp-manga-chapter-img"></div>'
            for n in range(1, chapter.pages + 1)
        )
        body = f'<div class="{c["reading"]}">{images}</div>'
        return _page("wp-manga-template-default", f"{series.title} - {chapter.title}", body)

    async def _cover(self, request: Request) -> Response:
        if self.hotlinked(request):
            return self.hotlink_refusal()
        series = self.catalog.by_slug(request.path_params["slug"])
        if series is None:
            return self._not_found()
        return Response(cover_svg(series.title, series.hue, self.title), media_type="image/svg+xml")

    async def _image(self, request: Request) -> Response:
        if self.hotlinked(request):
            return self.hotlink_refusal()
        series = self.catalog.by_slug(request.path_params["slug"])
        number = request.path_params["chapter"].removeprefix("chapter-").replace("-", ".")
        chapter = series.chapter(number) if series else None
        page = request.path_params["page"]
        if series is None or chapter is None or not 1 <= page <= chapter.pages:
            return self._not_found()
        svg = page_svg(series.title, chapter.number, page, series.hue)
        return Response(svg, media_type="image/svg+xml")
