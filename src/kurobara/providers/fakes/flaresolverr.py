"""A fake FlareSolverr on a loopback port: its documented ``POST /v1`` with ``{"cmd":
"request.get", "url": ..., "maxTimeout": ...}``, answered as the real one answers — ``status``,
``message`` and a ``solution`` with ``url``, ``status``, ``headers``, ``response`` (the page),
``cookies`` and ``userAgent``.

Where the real one drives a browser through the challenge's script, this one does what passing
it earns on a fake site under the ``guarded`` fault: it asks the site's solve path for a
``cf_clearance`` cookie with its own browser User-Agent, then loads the page with both. A block
page ("Attention Required!") it cannot pass, as the real one cannot. ``failing`` makes it answer
the error a real solver gives when the challenge does not clear in time; ``requests`` keeps what
it was asked.
"""

from __future__ import annotations

import time
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from multidict import CIMultiDictProxy
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kurobara.providers.errors import ProviderError, bot_wall
from kurobara.providers.fakes.server import SOLVE_PATH, Served
from kurobara.providers.http import HttpClient

BROWSER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
VERSION = "3.3.21"


class FakeFlareSolverr(Served):
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.failing = False
        self.requests: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/v1", self._v1, methods=["POST"])])

    @property
    def thread_name(self) -> str:
        return "fake-flaresolverr"

    def __enter__(self) -> FakeFlareSolverr:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _error(message: str, status_code: int = 500) -> JSONResponse:
        return JSONResponse(
            {"status": "error", "message": message, "startTimestamp": 0, "endTimestamp": 0,
             "version": VERSION},
            status_code=status_code,
        )  # fmt: skip

    async def _v1(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return self._error("Request body is not JSON", 400)
        if not isinstance(body, dict):
            return self._error("Request body must be an object", 400)
        self.requests.append(body)
        if body.get("cmd") != "request.get":
            return self._error(f"Request parameter 'cmd' = '{body.get('cmd')}' is invalid.")
        url, timeout = body.get("url"), body.get("maxTimeout", 60000)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return self._error("Request parameter 'url' is mandatory in 'request.get' command.")
        if not isinstance(timeout, int) or timeout <= 0:
            return self._error("Request parameter 'maxTimeout' must be a positive integer.")
        if self.failing:
            return self._error(
                f"Error: Error solving the challenge. Timeout after {timeout / 1000} seconds."
            )
        return await self._solve(url, timeout / 1000)

    async def _solve(self, url: str, timeout: float) -> Response:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        browser = HttpClient(user_agent=BROWSER_AGENT, timeout=timeout)
        try:
            solved = await browser.get("browser", origin + SOLVE_PATH, check=False)
            jar: SimpleCookie = SimpleCookie()
            raw = solved.headers
            headers = raw.getall("Set-Cookie", []) if isinstance(raw, CIMultiDictProxy) else []
            for header in headers:
                jar.load(header)
            cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())
            page = await browser.get("browser", url, headers={"Cookie": cookie}, check=False)
        except ProviderError as exc:
            return self._error(f"Error: {exc.message}")
        finally:
            await browser.aclose()
        if bot_wall(page) is not None:
            return self._error(
                "Error: Error solving the challenge. Cloudflare has blocked this request."
            )
        cookies = [
            {"name": name, "value": morsel.value, "domain": parts.hostname, "path": "/",
             "expires": -1 if not morsel["max-age"] else _expiry(morsel["max-age"]),
             "httpOnly": False, "secure": False, "sameSite": "Lax"}
            for name, morsel in jar.items()
        ]  # fmt: skip
        return JSONResponse(
            {
                "status": "ok",
                "message": "Challenge solved!",
                "solution": {
                    "url": page.url,
                    "status": page.status_code,
                    "headers": {},
                    "response": page.text,
                    "cookies": cookies,
                    "userAgent": BROWSER_AGENT,
                },
                "startTimestamp": 0,
                "endTimestamp": 0,
                "version": VERSION,
            }
        )


def _expiry(max_age: str) -> float:
    return time.time() + float(max_age)
