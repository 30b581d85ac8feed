"""The one outbound HTTP client of the process: pooled connections, timeouts, an honest
User-Agent, a per-provider request rate, and errors classified on the way out.

Tests swap the network by passing an ``httpx`` transport, or point providers at local fake sites.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

import httpx

from kurobara.providers.errors import (
    ParseFailure,
    ProviderTimeout,
    classify_transport_error,
    raise_for_response,
)

T = TypeVar("T")


async def with_deadline(awaitable: Awaitable[T], seconds: float) -> T:
    """Await with an overall deadline; a miss is a classified ``ProviderTimeout``."""
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError as exc:
        raise ProviderTimeout(f"no answer within {seconds:g} s") from exc


class RateLimiter:
    """Spaces requests to one provider at least ``1/rate`` seconds apart (a leaky bucket with
    no burst), shared by every coroutine of the process."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next_slot = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + self.interval
        if wait > 0:
            await asyncio.sleep(wait)


class HttpClient:
    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float = 30.0,
        max_connections: int = 200,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self._client = httpx.AsyncClient(
            headers={"User-Agent": user_agent, "Accept-Language": "en;q=0.9, *;q=0.5"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections // 2
            ),
            follow_redirects=True,
            transport=transport,
        )
        self._limiters: dict[str, RateLimiter] = {}

    def set_rate(self, provider_id: str, rate: float) -> None:
        self._limiters[provider_id] = RateLimiter(rate)

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
    ) -> httpx.Response:
        """Send one request for ``provider_id``. With ``check`` (the default) anything but a
        usable 2xx raises the classified ``ProviderError``; transport failures always do."""
        limiter = self._limiters.get(provider_id)
        if limiter is not None:
            await limiter.acquire()
        effective = timeout or self.timeout
        try:
            # The deadline covers the whole exchange: httpx's own timeouts are per phase, and a
            # site that trickles bytes would otherwise hold a check far past its timeout.
            response = await with_deadline(
                self._client.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    json=json,
                    headers=headers,
                    timeout=httpx.Timeout(effective, connect=min(effective, 10.0)),
                ),
                effective,
            )
        except ProviderTimeout:
            raise
        except (httpx.HTTPError, OSError) as exc:
            raise classify_transport_error(exc) from exc
        if check:
            raise_for_response(response)
        return response

    async def get(self, provider_id: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request(provider_id, "GET", url, **kwargs)

    async def post(self, provider_id: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request(provider_id, "POST", url, **kwargs)

    async def get_json(self, provider_id: str, url: str, **kwargs: Any) -> Any:
        response = await self.get(provider_id, url, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ParseFailure(f"expected JSON from {url}") from exc

    async def aclose(self) -> None:
        await self._client.aclose()
