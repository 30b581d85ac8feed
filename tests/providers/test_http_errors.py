"""Every fault of a fake site becomes its classified error kind, within the timeout."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator

import pytest

from kurobara.providers.errors import ProviderError, classify_transport_error
from kurobara.providers.http import HttpClient
from tests.providers.conftest import HUNG_TIMEOUT
from tests.providers.sites import FakeResolver, PingSite


@pytest.fixture
def site() -> Iterator[PingSite]:
    with PingSite(slow_seconds=10) as running:
        yield running


async def test_ok_site_answers_with_our_user_agent(site: PingSite, http: HttpClient) -> None:
    response = await http.get("ping", site.url)
    assert (response.status_code, response.text) == (200, "hello kurobara")
    assert response.headers["content-type"].startswith("text/plain")
    assert site.user_agents == ["kurobara-tests"]


@pytest.mark.parametrize(
    ("fault", "kind", "status"),
    [
        ("down", "connect", None),
        ("slow", "timeout", None),
        ("error", "http_status", 500),
        ("challenge", "bot_challenge", 403),
        ("ratelimit", "rate_limited", 429),
        ("huge", "too_large", 200),
    ],
)
@pytest.mark.parametrize("http_timeout", [HUNG_TIMEOUT])
async def test_fault_is_classified_within_the_timeout(
    site: PingSite, http: HttpClient, fault: str, kind: str, status: int | None
) -> None:
    site.set_fault(fault)
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        await http.get("ping", site.url)
    assert caught.value.kind == kind
    assert caught.value.status_code == status
    assert time.monotonic() - started < site.slow_seconds  # given up, not waited out


async def test_site_comes_back_on_the_same_port(site: PingSite, http: HttpClient) -> None:
    port = site.port
    site.set_fault("down")
    site.set_fault("ok")
    assert site.port == port
    assert (await http.get("ping", site.url)).status_code == 200


async def test_unresolvable_host_is_dns(site: PingSite) -> None:
    # The internet's DNS is not ours to query in tests: a resolver that knows one name.
    client = HttpClient(
        user_agent="t", timeout=1, resolver=FakeResolver({"ping.test": "127.0.0.1"})
    )
    try:
        assert (await client.get("ping", f"http://ping.test:{site.port}/")).status_code == 200
        with pytest.raises(ProviderError) as caught:
            await client.get("ping", "http://kurobara-does-not-exist.invalid/")
    finally:
        await client.aclose()
    assert caught.value.kind == "dns"


async def test_a_tls_handshake_failure_is_tls(site: PingSite, http: HttpClient) -> None:
    # The site speaks plain HTTP: a TLS client hello gets no TLS answer back.
    with pytest.raises(ProviderError) as caught:
        await http.get("ping", f"https://127.0.0.1:{site.port}/")
    assert caught.value.kind == "tls"


async def test_rate_limit_spaces_requests(site: PingSite, http: HttpClient) -> None:
    http.set_rate("ping", 20)
    started = time.monotonic()
    for _ in range(5):
        await http.get("ping", site.url)
    # Five requests at 20/s need at least four intervals of 50 ms.
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        # aiohttp names the TLS mode of every connection in its messages ("ssl:default").
        (ConnectionRefusedError(111, "Connect call failed to ssl-gateway:443"), "connect"),
        (OSError("tls terminator closed the connection"), "connect"),
        (ssl.SSLCertVerificationError(1, "certificate verify failed"), "tls"),
        (socket.gaierror(-2, "Name or service not known"), "dns"),
        (TimeoutError(), "timeout"),
        (RuntimeError("ssl"), "unexpected"),
    ],
)
def test_transport_errors_are_classified_by_type_not_by_message(
    error: Exception, kind: str
) -> None:
    assert classify_transport_error(error).kind == kind
