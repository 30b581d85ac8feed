"""A control panel for fake sites, on its own port so that it stays reachable while a site is
``down``: ``GET /`` (a page with a button per fault), ``GET /sites`` (JSON),
``POST /sites/{name}/fault`` (JSON ``{"fault": "down"}`` or a form field ``fault``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from html import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from kurobara.providers.fakes.server import FAULTS, BackgroundServer, FakeSite


class FakeSiteHub:
    def __init__(
        self, sites: Sequence[FakeSite], *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.sites = {site.name: site for site in sites}
        self.host = host
        self.port = port
        self._server: BackgroundServer | None = None
        self.app = Starlette(
            routes=[
                Route("/", self._index),
                Route("/sites", self._list),
                Route("/sites/{name}/fault", self._set_fault, methods=["POST"]),
            ]
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _state(self) -> list[dict[str, object]]:
        return [
            {"name": s.name, "kind": s.kind, "url": s.url, "fault": s.fault, "requests": s.requests}
            for s in self.sites.values()
        ]

    async def _index(self, request: Request) -> Response:
        rows = []
        for site in self.sites.values():
            buttons = "".join(
                f'<button name="fault" value="{f}"{" disabled" * (f == site.fault)}>{f}</button>'
                for f in FAULTS
            )
            rows.append(
                f"<tr><td>{escape(site.name)}</td><td>{site.kind}</td>"
                f'<td><a href="{site.url}">{site.url}</a></td><td><b>{site.fault}</b></td>'
                f'<td><form method="post" action="/sites/{escape(site.name)}/fault">{buttons}'
                f"</form></td></tr>"
            )
        return HTMLResponse(
            "<!doctype html><title>Kurobara fake sites</title>"
            "<style>body{font:15px system-ui;margin:2rem}td{padding:.3rem .8rem}</style>"
            "<h1>Fake provider sites</h1><table><tr><th>name</th><th>kind</th><th>url</th>"
            f"<th>fault</th><th>switch</th></tr>{''.join(rows)}</table>"
        )

    async def _list(self, request: Request) -> Response:
        return JSONResponse(self._state())

    async def _set_fault(self, request: Request) -> Response:
        site = self.sites.get(request.path_params["name"])
        if site is None:
            return JSONResponse({"detail": "unknown site"}, status_code=404)
        if request.headers.get("content-type", "").startswith("application/json"):
            fault = (await request.json()).get("fault")
        else:
            fault = (await request.form()).get("fault")
        if fault not in FAULTS:
            return JSONResponse({"detail": f"fault must be one of {list(FAULTS)}"}, status_code=422)
        # Starting or stopping a site blocks briefly; keep it off this event loop.
        await asyncio.to_thread(site.set_fault, str(fault))
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/", status_code=303)
        return JSONResponse({"name": site.name, "fault": site.fault})

    def start(self) -> FakeSiteHub:
        for site in self.sites.values():
            site.start()
        if self._server is None:
            self._server = BackgroundServer(self.app, name="fake-site-hub")
            self.port = self._server.start(self.host, self.port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        for site in self.sites.values():
            site.stop()
