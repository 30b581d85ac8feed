"""FlareSolverr (https://github.com/FlareSolverr/FlareSolverr): a proxy that opens a page in a
real browser, passes a Cloudflare-style challenge, and hands back what the browser got. Optional:
``KUROBARA_FLARESOLVERR_URL`` turns it on.

Its documented API is one endpoint, ``POST /v1`` with ``{"cmd": "request.get", "url": ...,
"maxTimeout": <ms>}``; the reply's ``solution`` carries ``cookies`` (the browser's, with
``cf_clearance``), ``userAgent`` (the browser's: the clearance is only good with it),
``response`` (the page's HTML), ``status`` and ``url``. The shared client (``providers/http.py``)
asks it when a site answers with a challenge (never a block: a firewall refusal is the same for
a browser), then keeps the cookies and user agent per provider until the cookies expire.

This module holds the request body, reading the reply, the clearance's lifetime, and the
``ChallengeSolver`` the client calls (it talks to FlareSolverr through that same client).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kurobara.providers.errors import BotChallenge, ParseFailure, ProviderError, bot_wall
from kurobara.providers.response import HttpResponse

if TYPE_CHECKING:
    from kurobara.providers.http import HttpClient

logger = logging.getLogger(__name__)

COMMAND = "request.get"
SOLVER_ID = "\x00flaresolverr"  # the rate-limit key of its requests: never a provider id
# A clearance whose cookies carry no expiry (session cookies) is kept this long; one whose
# cookies say a longer life is still dropped after the longest, so it is renewed daily at least.
DEFAULT_CLEARANCE_SECONDS = 30 * 60
LONGEST_CLEARANCE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Clearance:
    """What passing a challenge once earned, for one provider's host: cookies and the user
    agent they are bound to, good until ``expires_at`` (Unix time)."""

    host: str
    user_agent: str
    cookies: dict[str, str]
    expires_at: float
    # The page as the browser saw it when the challenge was passed: the answer to the request
    # that met the challenge when a retry with the cookies is challenged again.
    url: str = ""
    status: int = 200
    page: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def valid_for(self, url: str, *, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return now < self.expires_at and (urlsplit(url).hostname or "") == self.host

    def apply(self, headers: dict[str, str]) -> dict[str, str]:
        """Request headers with this clearance's user agent and cookies (added to any Cookie
        header the definition sends, an age gate's say)."""
        merged = {k: v for k, v in headers.items() if k.lower() not in ("user-agent", "cookie")}
        own = [v for k, v in headers.items() if k.lower() == "cookie"]
        cleared = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        merged["User-Agent"] = self.user_agent
        merged["Cookie"] = "; ".join([*own, cleared]) if own else cleared
        return merged


def request_body(url: str, timeout: float) -> dict[str, Any]:
    return {"cmd": COMMAND, "url": url, "maxTimeout": max(1000, int(timeout * 1000))}


def clearance_from(reply: Any, url: str, *, now: float | None = None) -> Clearance:
    """The clearance in a ``/v1`` reply; ``BotChallenge`` when FlareSolverr says it could not
    pass, or answers in another shape."""
    now = time.time() if now is None else now
    if not isinstance(reply, dict):
        raise BotChallenge("FlareSolverr answered something that is not its JSON reply")
    if reply.get("status") != "ok" or not isinstance(reply.get("solution"), dict):
        message = str(reply.get("message") or "no solution")[:300]
        raise BotChallenge(f"FlareSolverr could not pass the challenge: {message}")
    solution: dict[str, Any] = reply["solution"]
    cookies: dict[str, str] = {}
    expiries: list[float] = []
    for cookie in solution.get("cookies") or []:
        if not isinstance(cookie, dict) or not isinstance(cookie.get("name"), str):
            continue
        cookies[cookie["name"]] = str(cookie.get("value", ""))
        expires = cookie.get("expires")
        if isinstance(expires, int | float) and expires > now:
            expiries.append(float(expires))
    agent = solution.get("userAgent")
    if not cookies or not isinstance(agent, str) or not agent:
        raise BotChallenge("FlareSolverr passed no cookies or user agent back")
    lifetime = min(expiries) if expiries else now + DEFAULT_CLEARANCE_SECONDS
    headers = solution.get("headers")
    return Clearance(
        host=urlsplit(url).hostname or "",
        user_agent=agent,
        cookies=cookies,
        expires_at=min(lifetime, now + LONGEST_CLEARANCE_SECONDS),
        url=str(solution.get("url") or url),
        status=int(solution.get("status") or 200),
        page=str(solution.get("response") or ""),
        headers={str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
    )


class ChallengeSolver:
    """Clearances per provider, and passing a challenge when a request meets one."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.clearances: dict[str, Clearance] = {}
        self._solving: dict[str, asyncio.Lock] = {}

    def clearance(self, provider_id: str, url: str) -> Clearance | None:
        """The provider's clearance when it is still good for ``url``."""
        found = self.clearances.get(provider_id)
        return found if found is not None and found.valid_for(url) else None

    async def pass_challenge(
        self,
        http: HttpClient,
        provider_id: str,
        url: str,
        challenged: HttpResponse,
        *,
        rejected: Clearance | None,
        ends: float,
        attempt: Callable[[dict[str, str]], Awaitable[HttpResponse]],
    ) -> HttpResponse:
        """Pass the challenge (once per provider at a time: requests waiting meanwhile reuse
        the clearance), then ask again with its cookies and user agent. Challenged again (the
        site binds its clearance to more than cookies), the browser's own page is the answer
        for that URL; FlareSolverr failing leaves the challenge as the answer."""
        async with self._solving.setdefault(provider_id, asyncio.Lock()):
            # The clearance this request was sent with (``rejected``) is spent.
            known = self.clearance(provider_id, url)
            if known is rejected:
                known = None
            clearance = known or await self._solve(http, provider_id, url, ends)
        if clearance is None:
            return challenged
        retried = await attempt(clearance.apply({}))
        if bot_wall(retried) != "challenge":
            return retried
        self.clearances.pop(provider_id, None)
        if clearance.page and clearance.url.rstrip("/") == url.rstrip("/"):
            return HttpResponse(
                status_code=clearance.status, url=clearance.url, headers=clearance.headers,
                content=clearance.page.encode(), charset="utf-8", elapsed_ms=retried.elapsed_ms,
            )  # fmt: skip
        return retried

    async def _solve(
        self, http: HttpClient, provider_id: str, url: str, ends: float
    ) -> Clearance | None:
        remaining = ends - time.monotonic()
        if remaining <= 1:
            return None
        body = request_body(url, remaining - 0.5)
        try:
            response = await http.post(SOLVER_ID, f"{self.url}/v1", json=body, timeout=remaining)
            try:
                reply = response.json()
            except ValueError as exc:
                raise ParseFailure("FlareSolverr answered something that is not JSON") from exc
            clearance = clearance_from(reply, url)
        except ProviderError as exc:
            logger.warning(
                "flaresolverr failed provider=%s kind=%s: %s", provider_id, exc.kind, exc.message
            )
            return None
        self.clearances[provider_id] = clearance
        logger.info(
            "flaresolverr passed provider=%s expires_in_s=%.0f",
            provider_id, clearance.expires_at - time.time(),
        )  # fmt: skip
        return clearance
