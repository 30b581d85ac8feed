"""Names under ``invalid`` (RFC 6761, section 6.4) fail at once as ``dns``, without asking a DNS
server: on a machine whose DNS server is slow to answer (or drops the question), a check of such
a site was ``timeout`` instead (seen in CI: the Sources page test's catalog sites)."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from kurobara.providers.errors import ProviderError
from kurobara.providers.http import HttpClient, SpecialUseResolver, is_invalid_name


class SlowDNS(AbstractResolver):
    """A DNS server that takes a minute to answer anything: it answers nothing within a test."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        await asyncio.sleep(60)
        raise AssertionError("the slow DNS server answered")

    async def close(self) -> None:
        self.asked.clear()


@pytest.mark.parametrize(
    ("host", "invalid"),
    [
        ("invalid", True),
        ("site.invalid", True),
        ("community-madara-1.INVALID.", True),
        ("invalid.example.org", False),
        ("example.invalidated", False),
        ("mangadex.org", False),
    ],
)
def test_only_names_under_invalid_are_special(host: str, invalid: bool) -> None:
    assert is_invalid_name(host) is invalid


async def test_an_invalid_name_fails_as_dns_at_once_without_asking() -> None:
    dns = SlowDNS()
    http = HttpClient(user_agent="kurobara-tests", timeout=5, resolver=SpecialUseResolver(dns))
    try:
        started = time.monotonic()
        with pytest.raises(ProviderError) as caught:
            await http.get("site", "https://community-madara-1.invalid/")
        assert caught.value.kind == "dns"
        assert time.monotonic() - started < 4  # not the 5 s deadline
        assert dns.asked == []
    finally:
        await http.aclose()


async def test_other_names_are_asked_of_the_resolver_underneath() -> None:
    dns = SlowDNS()
    http = HttpClient(user_agent="kurobara-tests", timeout=0.5, resolver=SpecialUseResolver(dns))
    try:
        with pytest.raises(ProviderError) as caught:
            await http.get("site", "https://manga.example.org/")
        assert caught.value.kind == "timeout"
        assert dns.asked == ["manga.example.org"]
    finally:
        await http.aclose()


async def test_the_default_client_treats_invalid_names_so() -> None:
    http = HttpClient(user_agent="kurobara-tests", timeout=5)
    try:
        with pytest.raises(ProviderError) as caught:
            await http.get("site", "http://community-madara-1.invalid/")
        assert caught.value.kind == "dns"
        assert isinstance(http._resolver, SpecialUseResolver)
    finally:
        await http.aclose()
