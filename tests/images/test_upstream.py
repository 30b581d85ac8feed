"""fetch_image against a real fake site on loopback: the provider's headers, the Referer of the
page, the content type, and a classified failure when the answer is no image."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from kurobara.images.upstream import fetch_image, image_request_headers, sniff_image_type
from kurobara.providers.errors import HTTPStatusFailure, ParseFailure
from kurobara.providers.fakes.madara import FakeMadaraSite, chapter_slug
from kurobara.providers.http import HttpClient
from kurobara.providers.madara import MadaraProvider
from tests.providers.conftest import make_provider


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(user_agent="kurobara-tests", timeout=2.0)
    yield client
    await client.aclose()


async def test_it_fetches_a_page_image_with_its_content_type(
    site: FakeMadaraSite, http: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, site, http)
    series = site.catalog.series[0]
    pages = await provider.get_pages(f"{series.slug}/{chapter_slug(series.chapters[0])}")
    image = await fetch_image(http, provider, pages[0].url, referer=f"{site.url}/manga/x/")
    assert image.content_type == "image/svg+xml"
    assert image.content.startswith(b"<svg")
    assert image.size == len(image.content)


async def test_it_refuses_an_answer_that_is_no_image(
    site: FakeMadaraSite, http: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, site, http)
    with pytest.raises(ParseFailure):
        await fetch_image(http, provider, f"{site.url}/")


async def test_a_missing_image_is_a_classified_failure(
    site: FakeMadaraSite, http: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, site, http)
    with pytest.raises(HTTPStatusFailure, match="404"):
        await fetch_image(http, provider, f"{site.url}/wp-content/uploads/none.png")


async def test_the_pages_referer_replaces_the_generic_one(
    site: FakeMadaraSite, http: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, site, http)
    headers = image_request_headers(provider, "https://site.example/manga/one/chapter-2/")
    assert headers["Referer"] == "https://site.example/manga/one/chapter-2/"
    assert image_request_headers(provider, None)["Referer"] == provider.url + "/"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\nrest", "image/png"),
        (b"GIF89a....", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x1cftypavif", "image/avif"),
        (b"<html>", None),
    ],
)
def test_sniff_image_type(content: bytes, expected: str | None) -> None:
    assert sniff_image_type(content) == expected
