"""The one outbound HTTP client of the process (aiohttp underneath, chosen by measurement: see
docs/benchmarks.md): pooled connections, an honest User-Agent, and per provider a request
rate, the pause a 429 asks for, the redirects it may follow and a cap on every body.

Every request runs under one deadline that covers the wait for a rate-limit slot, connecting,
the redirects and reading the whole body, so a site that trickles bytes cannot hold a caller
past its timeout. Kinds get an ``HttpResponse`` (``providers/response.py``), never aiohttp's
own type; every failure is a classified ``ProviderError``.

Tests point providers at local fake sites (``providers/fakes``); the one seam is ``resolver``,
an aiohttp resolver that stands in for the internet's DNS.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urljoin
from urllib.request import getproxies

import aiohttp
from aiohttp.abc import AbstractResolver

from kurobara.providers.errors import (
    HTTPStatusFailure,
    ParseFailure,
    ProviderError,
    ProviderTimeout,
    ResponseTooLarge,
    bot_wall,
    classify_transport_error,
    raise_for_response,
    retry_after_seconds,
)
from kurobara.providers.flaresolverr import ChallengeSolver
from kurobara.providers.ratelimit import RateLimiter
from kurobara.providers.redirects import (
    MAX_REDIRECTS,
    SitePolicy,
    address_refusal,
    endpoint,
    is_internal_address,
    needs_addresses,
    redirect_refusal,
)
from kurobara.providers.response import HttpResponse

if TYPE_CHECKING:
    from kurobara.config import Settings

T = TypeVar("T")
BodyKind = Literal["page", "image"]

MiB = 1024 * 1024
DEFAULT_MAX_PAGE_BYTES = 16 * MiB  # an HTML page or a JSON document
DEFAULT_MAX_IMAGE_BYTES = 32 * MiB  # one page image (long webtoon strips are large)
DEFAULT_MAX_RETRY_AFTER = 300.0  # the longest pause a 429 may impose, seconds
PAUSE_WITHOUT_RETRY_AFTER = 10.0  # a 429 that does not say how long
CONNECT_TIMEOUT = 10.0
_CHUNK = 64 * 1024
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie"})

logger = logging.getLogger(__name__)


async def with_deadline(awaitable: Awaitable[T], seconds: float) -> T:
    """Await with an overall deadline; a miss is a classified ``ProviderTimeout``."""
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError as exc:
        raise ProviderTimeout(f"no answer within {seconds:g} s") from exc


def _budget_key(provider_id: str, budget: str) -> str:
    return f"{provider_id}\x00{budget}"  # never a provider id (ids are [a-z0-9_-])


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def is_invalid_name(host: str) -> bool:
    """A name under ``invalid``, which RFC 6761 reserves never to resolve (section 6.4)."""
    return host.rstrip(".").lower().rsplit(".", 1)[-1] == "invalid"


class SpecialUseResolver(AbstractResolver):
    """The system's resolver, except that names under ``invalid`` fail at once, as RFC 6761
    asks of resolution libraries, rather than after a round trip to a DNS server that may be
    slow to say so (a check of such a site is ``dns``, never ``timeout``)."""

    def __init__(self, resolver: AbstractResolver) -> None:
        self.resolver = resolver

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[Any]:
        if is_invalid_name(host):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(await self.resolver.resolve(host, port, family))

    async def close(self) -> None:
        await self.resolver.close()


class HttpClient:
    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float = 30.0,
        max_connections: int = 200,
        max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES,
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        resolver: AbstractResolver | None = None,
        flaresolverr_url: str | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_bytes: dict[BodyKind, int] = {"page": max_page_bytes, "image": max_image_bytes}
        self.max_retry_after = max_retry_after
        self._user_agent = user_agent
        self._max_connections = max_connections
        self._resolver = resolver
        self._owns_resolver = resolver is None
        self._session: aiohttp.ClientSession | None = None
        self._sites: dict[str, SitePolicy] = {}
        self._limiters: dict[str, RateLimiter] = {}
        # FlareSolverr (optional): what it passed, per provider, and who is asking it now.
        self.solver = ChallengeSolver(flaresolverr_url) if flaresolverr_url else None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> HttpClient:
        options: dict[str, Any] = {
            "user_agent": settings.http_user_agent,
            "timeout": settings.check_timeout,
            "max_page_bytes": settings.http_max_page_bytes,
            "max_image_bytes": settings.http_max_image_bytes,
            "max_retry_after": settings.http_max_retry_after,
            "flaresolverr_url": settings.flaresolverr_url,
        }
        return cls(**{**options, **overrides})

    # -- per-provider state --------------------------------------------------------------------

    def add_site(self, provider_id: str, policy: SitePolicy) -> None:
        """What this client knows of a provider's site: its rate, hosts and allowed redirects."""
        self._sites[provider_id] = policy
        self._limiters[provider_id] = RateLimiter(policy.rate)

    def set_rate(self, provider_id: str, rate: float) -> None:
        self.add_site(provider_id, replace(self._sites.get(provider_id, SitePolicy()), rate=rate))

    def add_budget(self, provider_id: str, budget: str, rate: float) -> None:
        """A rate of its own for some of a provider's requests (MangaDex's at-home endpoint
        has a limit apart from the rest of the API); requests name it as ``budget``. A 429
        answered within a budget pauses that budget only."""
        self._limiters[_budget_key(provider_id, budget)] = RateLimiter(rate)

    def _limiter(self, provider_id: str, budget: str | None = None) -> RateLimiter:
        key = provider_id if budget is None else _budget_key(provider_id, budget)
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = RateLimiter()
        return limiter

    # -- requests ------------------------------------------------------------------------------

    async def request(
        self,
        provider_id: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        check: bool = True,
        body: BodyKind = "page",
        budget: str | None = None,
    ) -> HttpResponse:
        """Send one request for ``provider_id`` and read its body (at most the cap for a
        ``body`` of that kind). With ``check`` (the default) anything but a usable 2xx raises
        the classified ``ProviderError``; transport failures always do. A challenge page is
        passed through FlareSolverr first when one is configured."""
        effective = timeout or self.timeout
        ends = time.monotonic() + effective
        limiter = self._limiter(provider_id, budget)
        sent = dict(headers or {})
        clearance = self.solver.clearance(provider_id, url) if self.solver else None
        if clearance is not None:
            sent = clearance.apply(sent)

        async def attempt(with_headers: dict[str, str]) -> HttpResponse:
            return await self._attempt(
                provider_id, limiter, method, url, params=params, data=data, json=json,
                headers=with_headers, effective=effective, ends=ends, cap=self.max_bytes[body],
            )  # fmt: skip

        response = await attempt(sent)
        if self.solver and method == "GET" and bot_wall(response) == "challenge":
            response = await self.solver.pass_challenge(
                self, provider_id, url, response, rejected=clearance, ends=ends, attempt=attempt
            )
        if check:
            raise_for_response(response)
        return response

    async def _attempt(
        self,
        provider_id: str,
        limiter: RateLimiter,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        data: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        effective: float,
        ends: float,
        cap: int,
    ) -> HttpResponse:
        """One exchange: a rate-limit slot, then the request, all before ``ends``."""
        started: float | None = None
        try:
            async with asyncio.timeout_at(ends):
                await limiter.acquire(deadline=ends)
                started = time.perf_counter()
                response = await self._exchange(
                    provider_id, method, url, params=params, data=data, json=json,
                    headers=headers, connect_timeout=min(effective, CONNECT_TIMEOUT), cap=cap,
                )  # fmt: skip
        except TimeoutError as exc:
            error: ProviderError = ProviderTimeout(f"no answer within {effective:g} s")
            error.elapsed_ms = None if started is None else _ms_since(started)
            raise error from exc
        except ProviderError as exc:
            if started is not None and exc.elapsed_ms is None:
                exc.elapsed_ms = _ms_since(started)
            raise
        except (aiohttp.ClientError, OSError) as exc:
            error = classify_transport_error(exc)
            error.elapsed_ms = None if started is None else _ms_since(started)
            raise error from exc
        if response.status_code == 429:
            self._pause(provider_id, limiter, response)
        return response

    def _pause(self, provider_id: str, limiter: RateLimiter, response: HttpResponse) -> None:
        asked = retry_after_seconds(response.headers)
        seconds = min(self.max_retry_after, PAUSE_WITHOUT_RETRY_AFTER if asked is None else asked)
        limiter.pause(seconds)
        logger.info("rate limited provider=%s pause_s=%.0f", provider_id, seconds)

    async def _exchange(
        self,
        provider_id: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        data: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        connect_timeout: float,
        cap: int,
    ) -> HttpResponse:
        """The request and the redirects it may follow, one hop at a time."""
        session = self._open()
        policy = self._sites.get(provider_id) or SitePolicy.for_site([url])
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout)
        started = time.perf_counter()
        status = 0
        for _ in range(MAX_REDIRECTS + 1):
            async with session.request(
                method, url, params=params, data=data, json=json, headers=headers,
                allow_redirects=False, timeout=timeout,
            ) as raw:  # fmt: skip
                location = raw.headers.get("Location")
                if raw.status not in _REDIRECT_CODES or not location:
                    content = await self._read(raw, cap)
                    return HttpResponse(
                        status_code=raw.status, url=str(raw.url), headers=raw.headers,
                        content=content, reason=raw.reason or "", charset=raw.charset,
                        elapsed_ms=_ms_since(started),
                    )  # fmt: skip
                source, status = str(raw.url), raw.status
            target = urljoin(source, location)
            await self._check_redirect(policy, source, target, status)
            if status == 303 or (status in (301, 302) and method == "POST"):
                method, data, json = "GET", None, None
            if endpoint(target) != endpoint(source) and headers:
                headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS}
            url, params = target, None
        raise HTTPStatusFailure(
            f"more than {MAX_REDIRECTS} redirects from {url}", status_code=status
        )

    async def _check_redirect(
        self, policy: SitePolicy, source: str, target: str, status: int
    ) -> None:
        refusal = redirect_refusal(policy, source, target)
        if refusal is None and needs_addresses(policy, target):
            host, port = endpoint(target)
            addresses = [entry["host"] for entry in await self._resolve(host, port)]
            refusal = address_refusal(host, addresses)
            if refusal is not None and await self._site_is_internal(policy):
                refusal = None
        if refusal is not None:
            raise HTTPStatusFailure(f"HTTP {status}: {refusal}", status_code=status)

    async def _site_is_internal(self, policy: SitePolicy) -> bool:
        """The definition's host is a name that resolves into an internal network itself."""
        for host, port in policy.endpoints:
            try:
                resolved = await self._resolve(host, port)
            except OSError:
                continue
            if any(is_internal_address(entry["host"]) for entry in resolved):
                return True
        return False

    async def _resolve(self, host: str, port: int) -> list[Any]:
        self._open()
        assert self._resolver is not None
        return list(await self._resolver.resolve(host, port))

    @staticmethod
    async def _read(raw: aiohttp.ClientResponse, cap: int) -> bytes:
        """The whole body, or ``ResponseTooLarge`` as soon as it passes ``cap`` bytes (decoded
        size: a compressed body is counted as it unpacks)."""
        declared = raw.content_length
        if declared is not None and declared > cap:
            raw.close()
            raise ResponseTooLarge(
                f"response of {declared} bytes is over the {cap}-byte limit", limit=cap,
                status_code=raw.status,
            )  # fmt: skip
        if declared is not None and raw.headers.get("Content-Encoding", "identity") == "identity":
            return await raw.read()  # exactly the declared length, which is within the cap
        body = bytearray()
        async for chunk in raw.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > cap:
                raw.close()
                raise ResponseTooLarge(
                    f"response over the {cap}-byte limit", limit=cap, status_code=raw.status
                )
        return bytes(body)

    def _open(self) -> aiohttp.ClientSession:
        # Opened on first use, inside the event loop that will use it.
        if self._session is None:
            if self._resolver is None:
                self._resolver = SpecialUseResolver(aiohttp.DefaultResolver())
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, ttl_dns_cache=300, resolver=self._resolver
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self._user_agent, "Accept-Language": "en;q=0.9, *;q=0.5"},
                # Cookies stay per host as a browser keeps them; IP-addressed sites included.
                cookie_jar=aiohttp.CookieJar(unsafe=True),
                # Proxy settings from the environment (HTTPS_PROXY, NO_PROXY) as curl reads
                # them; only when there are some, since aiohttp then looks them up per request
                # in a thread (two executor hops: most of this client's cost without a proxy).
                trust_env=bool(getproxies()),
                # Some sites send long Set-Cookie or CSP headers; aiohttp's default is 8 KiB.
                max_line_size=16384,
                max_field_size=16384,
            )
        return self._session

    async def get(self, provider_id: str, url: str, **kwargs: Any) -> HttpResponse:
        return await self.request(provider_id, "GET", url, **kwargs)

    async def post(self, provider_id: str, url: str, **kwargs: Any) -> HttpResponse:
        return await self.request(provider_id, "POST", url, **kwargs)

    async def get_json(self, provider_id: str, url: str, **kwargs: Any) -> Any:
        response = await self.get(provider_id, url, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ParseFailure(f"expected JSON from {url}") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._resolver is not None and self._owns_resolver:
            await self._resolver.close()
            self._resolver = None
