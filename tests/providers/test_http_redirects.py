"""Redirects are followed only within the provider's own site (or the hosts its definition
allows), and never into loopback, link-local or private networks from a public site."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kurobara.providers.errors import ProviderError
from kurobara.providers.http import HttpClient
from kurobara.providers.madara import MadaraProvider
from kurobara.providers.redirects import (
    SitePolicy,
    address_refusal,
    is_internal_address,
    needs_addresses,
    redirect_refusal,
)
from kurobara.providers.registry import parse_definition
from tests.providers.sites import PingSite


@pytest.fixture
def site() -> Iterator[PingSite]:
    with PingSite() as running:
        yield running


@pytest.fixture
def internal() -> Iterator[PingSite]:
    """Another server on loopback: what a hostile site would point a redirect at."""
    with PingSite(name="internal") as running:
        yield running


async def test_a_redirect_within_the_site_is_followed(site: PingSite, http: HttpClient) -> None:
    site.redirect_to = "/"
    response = await http.get("ping", f"{site.url}/hop")
    assert response.text == "hello kurobara"
    assert response.url == f"{site.url}/"


async def test_a_redirect_to_another_host_or_port_is_refused(
    site: PingSite, internal: PingSite, http: HttpClient
) -> None:
    site.redirect_to = f"{internal.url}/internal"
    with pytest.raises(ProviderError) as caught:
        await http.get("ping", f"{site.url}/hop")
    assert (caught.value.kind, caught.value.status_code) == ("http_status", 302)
    assert "redirect" in caught.value.message
    assert internal.requests == 0


def hop_provider(site: PingSite, http: HttpClient, **overrides: Any) -> MadaraProvider:
    """A provider whose health URL is the site's redirect."""
    raw = {"id": "hop", "name": "Hop", "kind": "madara", "url": site.url,
           "health": {"url": f"{site.url}/hop"}, **overrides}  # fmt: skip
    definition, cls = parse_definition(raw, source="test", index=1)
    assert cls is MadaraProvider
    return MadaraProvider(definition, http)


async def test_a_health_check_redirected_off_the_site_fails_with_the_redirect(
    site: PingSite, internal: PingSite, http: HttpClient
) -> None:
    site.redirect_to = f"{internal.url}/"
    result = await hop_provider(site, http).health_check(5)
    assert (result.ok, result.error_kind, result.http_status) == (False, "http_status", 302)
    assert internal.requests == 0


async def test_redirect_hosts_in_the_definition_allow_another_host(
    site: PingSite, internal: PingSite, http: HttpClient
) -> None:
    site.redirect_to = f"{internal.url}/"
    provider = hop_provider(site, http, redirect_hosts=[f"127.0.0.1:{internal.port}"])
    assert (await provider.health_check(5)).ok
    assert internal.requests == 1


SITE = SitePolicy.for_site(["https://manga.example.org", "https://api.example.org/v5"])
LISTED = SitePolicy.for_site(["https://manga.example.org"], redirect_hosts=["*.cdn.example.net"])
LOCAL = SitePolicy.for_site(["http://127.0.0.1:8001"])


@pytest.mark.parametrize(
    ("policy", "target", "allowed"),
    [
        (SITE, "https://manga.example.org/series/1/", True),
        (SITE, "https://api.example.org/manga", True),
        (SITE, "https://www.manga.example.org/", True),
        (SITE, "https://img.manga.example.org/cover.jpg", True),
        (SITE, "http://manga.example.org/", True),  # the same host on its default port
        (SITE, "https://manga.example.org:8443/", False),
        (SITE, "https://evil.example.com/", False),
        (SITE, "https://manga.example.org.evil.com/", False),
        (SITE, "http://127.0.0.1/internal", False),
        (SITE, "http://169.254.169.254/latest/meta-data/", False),
        (SITE, "http://localhost/", False),
        (SITE, "ftp://manga.example.org/", False),
        (LISTED, "https://a.cdn.example.net/p/1.jpg", True),
        (LISTED, "https://cdn.example.net.evil.com/", False),
        (LOCAL, "http://127.0.0.1:8001/page", True),
        (LOCAL, "http://127.0.0.1:9999/internal", False),
    ],
)
def test_redirect_rules(policy: SitePolicy, target: str, allowed: bool) -> None:
    host, port = sorted(policy.endpoints)[0]
    refusal = redirect_refusal(policy, f"https://{host}:{port}/", target)
    assert (refusal is None) == allowed, refusal


def test_a_listed_host_into_a_private_network_is_still_refused_from_a_public_site() -> None:
    policy = SitePolicy.for_site(["https://manga.example.org"], redirect_hosts=["10.0.0.5"])
    refusal = redirect_refusal(policy, "https://manga.example.org/", "http://10.0.0.5/")
    assert refusal is not None
    assert "internal" in refusal


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("0.0.0.0", True),
        ("::1", True),
        ("fe80::1", True),
        ("fd00::1", True),
        ("::ffff:127.0.0.1", True),
        ("93.184.216.34", False),
        ("2606:4700::6810:84e5", False),
    ],
)
def test_internal_addresses(address: str, internal: bool) -> None:
    assert is_internal_address(address) is internal


def test_a_name_is_judged_by_what_it_resolves_to() -> None:
    assert needs_addresses(SITE, "https://cdn.manga.example.org/")
    assert not needs_addresses(SITE, "https://manga.example.org/")
    assert address_refusal("cdn.manga.example.org", ["93.184.216.34"]) is None
    assert address_refusal("cdn.manga.example.org", ["93.184.216.34", "10.0.0.1"]) is not None


async def test_a_redirect_on_the_same_server_is_followed_for_any_provider(
    site: PingSite, http: HttpClient
) -> None:
    http.set_rate("unregistered", 50)  # known to the client by its rate alone
    site.redirect_to = f"{site.url}/"
    assert (await http.get("unregistered", f"{site.url}/hop")).text == "hello kurobara"
