"""MangaDex@Home node choice against the fake MangaDex: the base URL is asked for again after
five minutes (an injected clock, no sleeping) and page paths move from node to node."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from kurobara.images.mangadex import NODE_MAX_AGE, AtHomeNodes, is_mangadex_host, node_path
from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from kurobara.providers.http import HttpClient
from kurobara.providers.mangadex import MangaDexProvider
from tests.providers.conftest import make_provider


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMangaDexSite]:
    with FakeMangaDexSite(name="md") as running:
        yield running


@pytest.fixture
async def provider(site: FakeMangaDexSite) -> AsyncIterator[MangaDexProvider]:
    http = HttpClient(user_agent="kurobara-tests", timeout=2.0)
    yield make_provider(MangaDexProvider, site, http)
    await http.aclose()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_node_is_asked_for_again_after_five_minutes(
    site: FakeMangaDexSite, provider: MangaDexProvider
) -> None:
    clock = Clock()
    nodes = AtHomeNodes(clock)
    chapter = site.feeds[site.catalog.series[0].id][0]
    pages = await provider.get_pages(chapter.id)
    asked = site.at_home_requests
    await nodes.fetch_page(provider.http, provider, pages[0].url, chapter=chapter.id)
    clock.now += NODE_MAX_AGE - 1
    await nodes.fetch_page(provider.http, provider, pages[1].url, chapter=chapter.id)
    assert site.at_home_requests == asked + 1
    clock.now += 2
    image = await nodes.fetch_page(provider.http, provider, pages[2].url, chapter=chapter.id)
    assert site.at_home_requests == asked + 2
    assert image.content_type == "image/svg+xml"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.b.mangadex.network/tok/data/abc/1.png", "data/abc/1.png"),
        ("https://a.b.mangadex.network/data-saver/abc/1.jpg", "data-saver/abc/1.jpg"),
        ("https://uploads.mangadex.org/covers/x/y.jpg", None),
        ("https://a.b.mangadex.network/data/abc/", None),
    ],
)
def test_node_path(url: str, expected: str | None) -> None:
    assert node_path(url) == expected


def test_mangadex_own_hosts_are_not_reported() -> None:
    assert is_mangadex_host("https://uploads.mangadex.org/data/a/b.png")
    assert not is_mangadex_host("https://abc.mangadex.network/data/a/b.png")
