"""A small fake site for the shared HTTP client's tests: a page, a redirect whose target a test
sets, and the rate-limit answers MangaDex documents (``Retry-After`` in seconds and
``X-RateLimit-Retry-After`` as a Unix time)."""

from __future__ import annotations

import functools
import gzip
import socket
import time
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from kurobara.providers.fakes.server import FakeSite


@functools.cache
def packed_body() -> bytes:
    """20 KiB on the wire, 20 MiB once unpacked; compressed once, not per request (that took
    the site longer than the client's 1 s deadline on a loaded machine: ``timeout``, not
    ``too_large``)."""
    return gzip.compress(b"a" * (20 * 1024 * 1024))


class PingSite(FakeSite):
    kind = "ping"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.redirect_to = "/"
        self.retry_in = 30.0
        self.user_agents: list[str] = []

    def routes(self) -> list[BaseRoute]:
        async def index(request: Request) -> PlainTextResponse:
            self.user_agents.append(request.headers.get("user-agent", ""))
            return PlainTextResponse("moved" if self.layout_changed else "hello kurobara")

        async def hop(request: Request) -> RedirectResponse:
            return RedirectResponse(self.redirect_to, status_code=302)

        async def limited(request: Request) -> Response:
            until = int(time.time() + self.retry_in)
            headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Retry-After": str(until)}
            return PlainTextResponse("Too Many Requests", status_code=429, headers=headers)

        async def packed(request: Request) -> Response:
            return Response(
                packed_body(), media_type="text/html", headers={"Content-Encoding": "gzip"}
            )

        return [
            Route("/", index),
            Route("/hop", hop),
            Route("/limited", limited),
            Route("/packed", packed),
        ]

    def definition(self, provider_id: str | None = None, **overrides: Any) -> dict[str, Any]:
        return {"id": provider_id or self.name, "name": "Ping", "kind": "ping", "url": self.url}


class FakeResolver(AbstractResolver):
    """DNS for tests: the names it is given resolve to loopback, every other name fails the way
    ``getaddrinfo`` fails for a name that does not exist."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names = dict(names or {})
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        address = self.names.get(host, host if host.replace(".", "").isdigit() else None)
        if address is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            ResolveResult(hostname=host, host=address, port=port, family=socket.AF_INET,
                          proto=0, flags=socket.AI_NUMERICHOST)
        ]  # fmt: skip

    async def close(self) -> None:
        self.asked.clear()
