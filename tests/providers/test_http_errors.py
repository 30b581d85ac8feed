"""Every fault of a fake site becomes its classified error kind, within the timeout."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

from kurobara.providers.errors import ProviderError
from kurobara.providers.fakes.server import FakeSite
from kurobara.providers.http import HttpClient


class PingSite(FakeSite):
    kind = "ping"

    def routes(self) -> list[BaseRoute]:
        async def index(request: Request) -> PlainTextResponse:
            return PlainTextResponse("moved" if self.layout_changed else "hello kurobara")

        return [Route("/", index)]

    def definition(self, provider_id: str | None = None, **overrides: Any) -> dict[str, Any]:
        return {"id": provider_id or self.name, "name": "Ping", "kind": "ping", "url": self.url}


@pytest.fixture
def site() -> Iterator[PingSite]:
    with PingSite(slow_seconds=5) as running:
        yield running


async def test_ok_site_answers(site: PingSite, http: HttpClient) -> None:
    response = await http.get("ping", site.url)
    assert response.text == "hello kurobara"
    assert response.request.headers["user-agent"] == "kurobara-tests"


@pytest.mark.parametrize(
    ("fault", "kind", "status"),
    [
        ("down", "connect", None),
        ("slow", "timeout", None),
        ("error", "http_status", 500),
        ("challenge", "bot_challenge", 403),
        ("ratelimit", "rate_limited", 429),
    ],
)
async def test_fault_is_classified_within_the_timeout(
    site: PingSite, http: HttpClient, fault: str, kind: str, status: int | None
) -> None:
    site.set_fault(fault)
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        await http.get("ping", site.url)
    assert caught.value.kind == kind
    assert caught.value.status_code == status
    assert time.monotonic() - started < 3


async def test_site_comes_back_on_the_same_port(site: PingSite, http: HttpClient) -> None:
    port = site.port
    site.set_fault("down")
    site.set_fault("ok")
    assert site.port == port
    assert (await http.get("ping", site.url)).status_code == 200


async def test_unresolvable_host_is_dns() -> None:
    # The resolver is not ours to query in tests: the transport fails as httpcore does when
    # getaddrinfo fails.
    def fail(request: httpx.Request) -> httpx.Response:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc

    client = HttpClient(user_agent="t", timeout=1, transport=httpx.MockTransport(fail))
    with pytest.raises(ProviderError) as caught:
        await client.get("ping", "http://kurobara-does-not-exist.invalid/")
    await client.aclose()
    assert caught.value.kind == "dns"


async def test_tls_failure_is_tls() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        try:
            raise ssl.SSLCertVerificationError(1, "certificate verify failed")
        except ssl.SSLError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc

    client = HttpClient(user_agent="t", timeout=1, transport=httpx.MockTransport(fail))
    with pytest.raises(ProviderError) as caught:
        await client.get("ping", "https://self-signed.test/")
    await client.aclose()
    assert caught.value.kind == "tls"


async def test_rate_limit_spaces_requests(site: PingSite, http: HttpClient) -> None:
    http.set_rate("ping", 20)
    started = time.monotonic()
    for _ in range(5):
        await http.get("ping", site.url)
    # Five requests at 20/s need at least four intervals of 50 ms.
    assert time.monotonic() - started >= 0.2


def test_transport_errors_outside_httpx_are_connect() -> None:
    from kurobara.providers.errors import classify_transport_error

    assert classify_transport_error(httpx.ConnectError("refused")).kind == "connect"
    assert classify_transport_error(httpx.ReadTimeout("slow")).kind == "timeout"
    assert classify_transport_error(RuntimeError("boom")).kind == "unexpected"
