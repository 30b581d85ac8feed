"""Redirects are followed only within the provider's own site (or the hosts its definition
allows), and never into loopback, link-local or private networks from a public site."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kurobara.providers.errors import ProviderError
from kurobara.providers.http import HttpClient
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
