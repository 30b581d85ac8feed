"""A minimal fake site and provider kind for monitoring tests: the site answers ``/`` and a
search page; the kind is registered through the registry's ``KINDS`` table like any other."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Route

from kurobara.providers.base import Chapter, MangaDetails, Page, Provider, SearchResult
from kurobara.providers.fakes.server import FakeSite

KIND = "ping"
KIND_TARGET = "tests.monitoring.sites:PingProvider"


class PingSite(FakeSite):
    kind = KIND
    # While set to an unset event, the health page waits for it: a check stays in flight until
    # the test lets it finish (instead of a delay that heavy load can outlast).
    gate: threading.Event | None = None

    def routes(self) -> list[BaseRoute]:
        async def index(request: Request) -> PlainTextResponse:
            if self.gate is not None:
                await asyncio.to_thread(self.gate.wait, 60)
            return PlainTextResponse("moved" if self.layout_changed else "hello kurobara")

        async def search(request: Request) -> JSONResponse:
            if self.layout_changed:
                return JSONResponse({"items": []})
            return JSONResponse({"results": [{"id": "1", "title": "Crimson Blade"}]})

        return [Route("/", index), Route("/search", search)]

    def definition(self, provider_id: str | None = None, **overrides: Any) -> dict[str, Any]:
        return {
            "id": provider_id or self.name,
            "name": (provider_id or self.name).title(),
            "kind": KIND,
            "url": self.url,
            "rate_limit": 100,
            **overrides,
        }


class PingProvider(Provider):
    kind = KIND

    async def search(self, query: str, *, page: int = 1, limit: int = 20) -> list[SearchResult]:
        data = await self.http.get_json(self.id, f"{self.url}/search", params={"q": query})
        return [
            SearchResult(provider_id=self.id, external_id=item["id"], title=item["title"])
            for item in data.get("results", [])
        ]

    async def get_manga_details(self, external_id: str) -> MangaDetails:
        return MangaDetails(provider_id=self.id, external_id=external_id, title="Crimson Blade")

    async def get_chapters(self, external_id: str) -> list[Chapter]:
        return []

    async def get_pages(self, chapter_id: str) -> list[Page]:
        return []
