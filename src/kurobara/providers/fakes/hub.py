"""A control panel for fake sites, on its own port so that it stays reachable while a site is
``down``: ``GET /`` (a page with a button per fault), ``GET /sites`` (JSON),
``POST /sites/{name}/fault`` (JSON ``{"fault": "down"}`` or a form field ``fault``),
``POST /sites/{name}/variant`` (JSON ``{"name": "chapters", "value": "ajax_old"}`` or form
fields): switch one of the site's markup variants,
``GET /sites/{name}/series`` (JSON: each series with its chapter count) and
``POST /sites/{name}/chapters`` (JSON ``{"series": id-or-slug}`` or a form field ``series``):
publish the next chapter of a series, so a library update has something new to find."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from html import escape
from typing import Self

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from kurobara.providers.fakes.server import FAULTS, FakeSite, Served


class FakeSiteHub(Served):
    def __init__(
        self, sites: Sequence[FakeSite], *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.sites = {site.name: site for site in sites}
        self.host = host
        self.port = port
        self.app = Starlette(
            routes=[
                Route("/", self._index),
                Route("/sites", self._list),
                Route("/sites/{name}/fault", self._set_fault, methods=["POST"]),
                Route("/sites/{name}/variant", self._set_variant, methods=["POST"]),
                Route("/sites/{name}/series", self._series),
                Route("/sites/{name}/chapters", self._add_chapter, methods=["POST"]),
            ]
        )

    @property
    def thread_name(self) -> str:
        return "fake-site-hub"

    def _state(self) -> list[dict[str, object]]:
        return [
            {
                "name": s.name,
                "kind": s.kind,
                "url": s.url,
                "fault": s.fault,
                "variants": dict(s.variants),
                "requests": s.requests,
            }
            for s in self.sites.values()
        ]

    async def _index(self, request: Request) -> Response:
        rows = []
        for site in self.sites.values():
            buttons = "".join(
                f'<button name="fault" value="{f}"{" disabled" * (f == site.fault)}>{f}</button>'
                for f in FAULTS
            )
            options = "".join(
                f'<option value="{escape(s.id)}">{escape(s.title)} ({len(s.chapters)} ch.)</option>'
                for s in sorted(site.catalog.series, key=lambda s: s.title)
            )
            rows.append(
                f"<tr><td>{escape(site.name)}</td><td>{site.kind}</td>"
                f'<td><a href="{site.url}">{site.url}</a></td><td><b>{site.fault}</b></td>'
                f'<td><form method="post" action="/sites/{escape(site.name)}/fault">{buttons}'
                f'</form></td><td><form method="post" action="/sites/{escape(site.name)}/chapters">'
                f'<select name="series" aria-label="Series on {escape(site.name)}">{options}'
                f"</select> <button>Add chapter</button></form></td><td>{self._variants(site)}"
                "</td></tr>"
            )
        return HTMLResponse(
            "<!doctype html><title>Kurobara fake sites</title>"
            "<style>body{font:15px system-ui;margin:2rem}td{padding:.3rem .8rem}</style>"
            "<h1>Fake provider sites</h1><table><tr><th>name</th><th>kind</th><th>url</th>"
            "<th>fault</th><th>switch</th><th>new chapter</th><th>variants</th></tr>"
            f"{''.join(rows)}</table>"
        )

    @staticmethod
    def _variants(site: FakeSite) -> str:
        forms = []
        for name, values in site.VARIANTS.items():
            options = "".join(
                f"<option{' selected' * (v == site.variants[name])}>{escape(v)}</option>"
                for v in values
            )
            forms.append(
                f'<form method="post" action="/sites/{escape(site.name)}/variant">'
                f'<input type="hidden" name="name" value="{escape(name)}">'
                f'<label>{escape(name)} <select name="value" '
                f'aria-label="{escape(name)} on {escape(site.name)}">{options}</select></label> '
                "<button>Set</button></form>"
            )
        return "".join(forms)

    async def _set_variant(self, request: Request) -> Response:
        site = self.sites.get(request.path_params["name"])
        if site is None:
            return JSONResponse({"detail": "unknown site"}, status_code=404)
        name, value = await self._field(request, "name"), await self._field(request, "value")
        try:
            site.set_variant(str(name), str(value))
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/", status_code=303)
        return JSONResponse({"name": site.name, "variants": dict(site.variants)})

    async def _list(self, request: Request) -> Response:
        return JSONResponse(self._state())

    async def _set_fault(self, request: Request) -> Response:
        site = self.sites.get(request.path_params["name"])
        if site is None:
            return JSONResponse({"detail": "unknown site"}, status_code=404)
        fault = await self._field(request, "fault")
        if fault not in FAULTS:
            return JSONResponse({"detail": f"fault must be one of {list(FAULTS)}"}, status_code=422)
        # Starting or stopping a site blocks briefly; keep it off this event loop.
        await asyncio.to_thread(site.set_fault, str(fault))
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/", status_code=303)
        return JSONResponse({"name": site.name, "fault": site.fault})

    async def _field(self, request: Request, name: str) -> object:
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await request.json()
            return body.get(name) if isinstance(body, dict) else None
        return (await request.form()).get(name)

    async def _series(self, request: Request) -> Response:
        site = self.sites.get(request.path_params["name"])
        if site is None:
            return JSONResponse({"detail": "unknown site"}, status_code=404)
        return JSONResponse(
            [
                {"id": s.id, "slug": s.slug, "title": s.title, "chapters": len(s.chapters)}
                for s in site.catalog.series
            ]
        )

    async def _add_chapter(self, request: Request) -> Response:
        site = self.sites.get(request.path_params["name"])
        if site is None:
            return JSONResponse({"detail": "unknown site"}, status_code=404)
        ref = await self._field(request, "series")
        if not isinstance(ref, str) or site.catalog.find(ref) is None:
            return JSONResponse(
                {"detail": "series must be the id or slug of one of the site's series"},
                status_code=422,
            )
        chapter = site.add_chapter(ref)
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/", status_code=303)
        series = site.catalog.find(ref)
        assert series is not None
        return JSONResponse(
            {
                "site": site.name,
                "series_id": series.id,
                "number": chapter.number,
                "title": chapter.title,
                "chapters": len(series.chapters),
            },
            status_code=201,
        )

    def start(self) -> Self:
        for site in self.sites.values():
            site.start()
        return super().start()

    def stop(self) -> None:
        super().stop()
        for site in self.sites.values():
            site.stop()
