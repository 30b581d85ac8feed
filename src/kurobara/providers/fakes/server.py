"""The fake-site server: a Starlette app per provider kind, served by uvicorn in a background
thread on a loopback port, with fault switches:

=========== ===============================================================
fault       what the site does
=========== ===============================================================
ok          answers normally
down        stops listening: connections are refused
slow        waits ``slow_seconds`` before answering (longer than a timeout)
error       HTTP 500 on every request
challenge   a Cloudflare-style 403 interstitial
blocked     a Cloudflare firewall block page (403 "Attention Required!")
guarded     the challenge, unless the request carries a ``cf_clearance`` cookie the
            site issued to the same User-Agent (what a browser, or FlareSolverr, gets
            from ``/cdn-cgi/challenge-platform/solve`` by passing the challenge)
layout      pages render with a changed layout (selectors no longer match)
ratelimit   HTTP 429 with Retry-After
huge        HTTP 200 with an endless body (counted in ``bytes_sent``)
=========== ===============================================================
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from kurobara.providers.fakes.catalog import FakeCatalog, FakeChapter, FakeSeries

FAULTS: tuple[str, ...] = (
    "ok", "down", "slow", "error", "challenge", "blocked", "guarded", "layout", "ratelimit",
    "huge",
)  # fmt: skip
HUGE_CHUNK = b"<p>" + b"kurobara " * 7280 + b"</p>\n"  # about 64 KiB

CHALLENGE_PAGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="360"></head><body><div class="main-wrapper">
<h1>Checking your browser before accessing the site.</h1>
<noscript>Enable JavaScript and cookies to continue</noscript>
<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script>
</div></body></html>"""


BLOCK_PAGE = """<!DOCTYPE html><html lang="en-US"><head>
<title>Attention Required! | Cloudflare</title></head><body><div id="cf-wrapper">
<h1>Sorry, you have been blocked</h1><h2>You are unable to access this site</h2>
<p>This website is using a security service to protect itself from online attacks.</p>
</div></body></html>"""
SOLVE_PATH = "/cdn-cgi/challenge-platform/solve"
CLEARANCE_COOKIE = "cf_clearance"
CLEARANCE_SECONDS = 1800


class _Server(uvicorn.Server):
    """Tells a waiting thread when it is listening."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


class BackgroundServer:
    """An ASGI app served by uvicorn in a daemon thread with its own event loop, on a socket we
    bind ourselves (so that a restarted site gets its old port back)."""

    def __init__(self, app: ASGIApp, *, name: str) -> None:
        self.app = app
        self.name = name
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str, port: int) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(512)
        ready = threading.Event()
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off",
            timeout_graceful_shutdown=1,
        )  # fmt: skip
        self._server = server = _Server(config, ready)

        def serve() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            finally:
                sock.close()

        self._thread = threading.Thread(target=serve, name=self.name, daemon=True)
        self._thread.start()
        if not ready.wait(15):
            raise RuntimeError(f"{self.name} did not start")
        return int(sock.getsockname()[1])

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(15)
        self._server = None
        self._thread = None


def _challenge() -> Response:
    return HTMLResponse(
        CHALLENGE_PAGE,
        status_code=403,
        headers={"server": "cloudflare", "cf-mitigated": "challenge"},
    )


class Served:
    """A fake served on loopback: ``start()`` serves ``app`` on ``host``:``port`` (0 picks a
    free port, which a restart keeps) until ``stop()``. Both may be called twice."""

    host: str
    port: int
    app: ASGIApp
    _served: BackgroundServer | None = None

    @property
    def thread_name(self) -> str:
        return type(self).__name__

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        if self._served is None:
            self._served = BackgroundServer(self.app, name=self.thread_name)
            self.port = self._served.start(self.host, self.port)
        return self

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None


class _FaultMiddleware:
    def __init__(self, app: ASGIApp, site: FakeSite) -> None:
        self.app = app
        self.site = site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.site.requests += 1
        fault = self.site.fault
        response: Response | None = None
        if fault == "slow":
            await asyncio.sleep(self.site.slow_seconds)
        elif fault == "error":
            response = PlainTextResponse("Internal Server Error", status_code=500)
        elif fault == "guarded":
            response = self._guard(Request(scope))
        elif fault == "challenge":
            response = _challenge()
        elif fault == "blocked":
            response = HTMLResponse(BLOCK_PAGE, status_code=403, headers={"server": "cloudflare"})
        elif fault == "ratelimit":
            response = PlainTextResponse(
                "Too Many Requests", status_code=429, headers={"Retry-After": "30"}
            )
        elif fault == "huge":
            await self._endless(receive, send)
            return
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _guard(self, request: Request) -> Response | None:
        """The challenge, unless the request shows a clearance issued to its User-Agent; the
        solve path issues one (as passing the challenge's script in a browser would)."""
        agent = request.headers.get("user-agent", "")
        if request.url.path == SOLVE_PATH:
            token = secrets.token_hex(16)
            self.site.clearances[token] = agent
            response = PlainTextResponse("solved")
            response.set_cookie(CLEARANCE_COOKIE, token, max_age=CLEARANCE_SECONDS, path="/")
            return response
        shown = request.cookies.get(CLEARANCE_COOKIE)
        if shown is not None and self.site.clearances.get(shown) == agent:
            return None
        return _challenge()

    async def _endless(self, receive: Receive, send: Send) -> None:
        """A page that never ends, until the client hangs up: a client without a body cap
        reads until it runs out of memory."""
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        gone = asyncio.Event()

        async def watch() -> None:
            message = await receive()
            while message["type"] != "http.disconnect":
                message = await receive()
            gone.set()

        watcher = asyncio.create_task(watch())
        try:
            while not gone.is_set():
                self.site.bytes_sent += len(HUGE_CHUNK)
                await send({"type": "http.response.body", "body": HUGE_CHUNK, "more_body": True})
                await asyncio.sleep(0)  # let the watcher hear a hang-up
        finally:
            watcher.cancel()


class FakeSite(Served, ABC):
    """One fake source site. ``start()`` serves it; ``set_fault()`` switches its behaviour."""

    kind: ClassVar[str]
    # Markup variants a site can be switched between (the hub shows a control per entry):
    # name -> the allowed values, the first being the default.
    VARIANTS: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(
        self,
        *,
        name: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: str | None = None,
        catalog_size: int = 40,
        slow_seconds: float = 60.0,
        shared: Sequence[str] = (),
    ) -> None:
        self.name = name or f"fake-{self.kind}"
        self.host = host
        self.port = port
        # ``shared``: titles of series other sites carry too (``catalog.SHARED_TITLES``).
        self.catalog = FakeCatalog(seed or self.name, catalog_size, shared)
        self.slow_seconds = slow_seconds
        self.fault = "ok"
        self.variants = {name: values[0] for name, values in self.VARIANTS.items()}
        self.requests = 0
        self.bytes_sent = 0
        self.hotlinks_refused = 0
        self.clearances: dict[str, str] = {}  # cf_clearance token -> the User-Agent it is for
        self.app = Starlette(routes=self.routes())
        self.app.add_middleware(_FaultMiddleware, site=self)

    @property
    def thread_name(self) -> str:
        return f"fake-site-{self.name}"

    @property
    def layout_changed(self) -> bool:
        return self.fault == "layout"

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """The kind's pages and API endpoints."""

    @property
    def title(self) -> str:
        """The site's display name: ``fake-madara`` shows as "Fake Madara"."""
        return self.name.replace("-", " ").title()

    def definition(self, provider_id: str | None = None, **overrides: Any) -> dict[str, Any]:
        """A provider definition (as in a providers file) that points at this site."""
        return {
            "id": provider_id or self.name,
            "name": self.title,
            "kind": self.kind,
            "url": self.url,
            "rate_limit": 20,  # a local site: no reason to throttle tests
            **self.definition_params(),
            **overrides,
        }

    def definition_params(self) -> dict[str, Any]:
        """The kind's parameters (and health block) that fit this site."""
        return {}

    def absolute(self, path: str) -> str:
        return f"{self.url}{path}"

    def request_base(self, request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    def hotlinked(self, request: Request) -> bool:
        """An image request from another site's page, as hotlink protection sees it: a Referer
        that is not this site, or a browser saying the request crosses sites (``Sec-Fetch-Site``
        is sent even when a page asks for no Referer)."""
        referer = request.headers.get("referer")
        if referer and not referer.startswith(self.request_base(request) + "/"):
            self.hotlinks_refused += 1
            return True
        if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            self.hotlinks_refused += 1
            return True
        return False

    def hotlink_refusal(self) -> Response:
        return PlainTextResponse("Hotlinking is not allowed", status_code=403)

    # -- lifecycle -------------------------------------------------------------------------

    def set_fault(self, fault: str) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        was_down = self.fault == "down"
        self.fault = fault
        if fault == "down" and not was_down:
            self.stop()
        elif fault != "down" and was_down:
            self.start()

    def set_variant(self, name: str, value: str) -> None:
        if name not in self.VARIANTS or value not in self.VARIANTS[name]:
            choices = "; ".join(f"{n}: {', '.join(v)}" for n, v in self.VARIANTS.items())
            raise ValueError(f"unknown variant {name}={value!r}; {choices or 'none'}")
        self.variants[name] = value

    def add_chapter(self, ref: str) -> FakeChapter:
        """Publish a new chapter of the series ``ref`` (id or slug); ``KeyError`` if unknown."""
        series, chapter = self.catalog.add_chapter(ref)
        self.chapter_added(series, chapter)
        return chapter

    def chapter_added(self, series: FakeSeries, chapter: FakeChapter) -> None:
        """A kind that indexes chapters beyond the catalog (a feed, post ids) updates them;
        a kind that reads its catalog on every request has nothing to do."""
        return None

    def __enter__(self) -> FakeSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
