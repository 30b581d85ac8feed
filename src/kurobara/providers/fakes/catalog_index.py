"""A fake community catalog: a loopback server publishing a provider index (the definition
format of docs/providers.md) as JSON at ``/index.json`` and YAML at ``/index.yaml``, with the
entries swappable and a fault switch (``ok``, ``error``: HTTP 500, ``garbage``: not an index).
It serves the tests and ``KUROBARA_CATALOG_URLS`` demos; it counts the fetches it answers."""

from __future__ import annotations

import json
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from kurobara.providers.fakes.server import Served

INDEX_FAULTS = ("ok", "error", "garbage")


def offline_entries(
    count: int, *, kind: str = "madara", language: str = "en"
) -> list[dict[str, Any]]:
    """Entries whose sites are under ``.invalid`` (RFC 6761: never resolves), so a check of
    one fails with ``dns`` on every machine, online or not, and no test reaches the internet."""
    return [
        {
            "id": f"community-{kind}-{n}",
            "name": f"Community {kind.title()} {n}",
            "kind": kind,
            "url": f"https://community-{kind}-{n}.invalid",
            "language": language,
            "nsfw": n % 4 == 0,
            "enabled": False,
        }
        for n in range(1, count + 1)
    ]


class FakeCatalogIndex(Served):
    def __init__(self, entries: list[dict[str, Any]] | None = None, *, host: str = "127.0.0.1"):
        self.entries: list[dict[str, Any]] = list(entries or [])
        self.fault = "ok"
        self.fetches = 0
        self.host = host
        self.port = 0
        self.app = Starlette(
            routes=[Route("/index.json", self._json), Route("/index.yaml", self._yaml)]
        )

    @property
    def thread_name(self) -> str:
        return "fake-catalog-index"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/index.json"

    @property
    def yaml_url(self) -> str:
        return f"http://{self.host}:{self.port}/index.yaml"

    def _faulty(self) -> Response | None:
        self.fetches += 1
        if self.fault == "error":
            return PlainTextResponse("internal error", status_code=500)
        if self.fault == "garbage":
            return PlainTextResponse("<html>not an index</html>: [", media_type="text/html")
        return None

    def json_body(self) -> bytes:
        """What ``/index.json`` serves now (its SHA-256 is the hash Kurobara shows)."""
        return json.dumps({"providers": self.entries}, ensure_ascii=False).encode()

    async def _json(self, request: Request) -> Response:
        return self._faulty() or Response(self.json_body(), media_type="application/json")

    async def _yaml(self, request: Request) -> Response:
        body = yaml.safe_dump(self.entries, allow_unicode=True, sort_keys=False)
        return self._faulty() or Response(body, media_type="application/yaml")
