"""Health probes that test what readers use (search → details → chapters → pages → first image,
``providers/probe.py``), each failure naming its stage; and Cloudflare's walls told apart: a
challenge (``bot_challenge``) from a firewall block (``bot_blocked``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kurobara.providers.errors import bot_wall
from kurobara.providers.fakes.madara import FakeMadaraSite
from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from kurobara.providers.fakes.mangathemesia import FakeMangaThemesiaSite
from kurobara.providers.http import HttpClient
from kurobara.providers.madara import MadaraProvider
from kurobara.providers.mangadex import MangaDexProvider
from kurobara.providers.mangathemesia import MangaThemesiaProvider
from kurobara.providers.response import HttpResponse
from tests.providers.conftest import make_provider

PROBE = {"keyword": "page-item-detail", "probe": {"query": "a"}, "timeout": 10}


@pytest.fixture(scope="module")
def madara() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite(name="fake-madara-probes", slow_seconds=5) as running:
        yield running


@pytest.fixture(autouse=True)
def default_state(madara: FakeMadaraSite) -> Iterator[None]:
    yield
    madara.set_fault("ok")
    for name, values in madara.VARIANTS.items():
        madara.set_variant(name, values[0])


async def test_a_probe_walks_every_stage_to_the_first_image(
    madara: FakeMadaraSite, http: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, madara, http, health=PROBE)
    before = madara.hotlinks_refused
    result = await provider.health_check(10)
    assert (result.ok, result.stage) == (True, None), result.error
    assert madara.hotlinks_refused == before  # the image went with the chapter as Referer


async def test_broken_chapter_list_fails_at_the_chapters_stage(
    madara: FakeMadaraSite, http: HttpClient
) -> None:
    madara.set_variant("chapters", "broken")
    provider = make_provider(MadaraProvider, madara, http, health=PROBE)
    result = await provider.health_check(10)
    assert (result.ok, result.stage, result.error_kind, result.http_status) == (
        False, "chapters", "http_status", 500,
    )  # fmt: skip


async def test_without_a_probe_the_broken_chapter_list_goes_unnoticed(
    madara: FakeMadaraSite, http: HttpClient
) -> None:
    madara.set_variant("chapters", "broken")
    provider = make_provider(MadaraProvider, madara, http)  # keyword + canary search only
    assert (await provider.health_check(10)).ok


async def test_a_probe_whose_pages_cannot_be_read_fails_at_pages(
    madara: FakeMadaraSite, http: HttpClient
) -> None:
    madara.set_variant("reader", "protected-nokey")
    provider = make_provider(MadaraProvider, madara, http, health=PROBE)
    result = await provider.health_check(10)
    assert (result.ok, result.stage, result.error_kind) == (False, "pages", "parse")


async def test_a_search_that_finds_nothing_fails_at_search(
    madara: FakeMadaraSite, http: HttpClient
) -> None:
    health = {**PROBE, "probe": {"query": "zzqqxx-no-such-title"}}
    provider = make_provider(MadaraProvider, madara, http, health=health)
    result = await provider.health_check(10)
    assert (result.ok, result.stage, result.error_kind) == (False, "search", "parse")


async def test_a_site_that_is_down_fails_at_the_health_stage(
    madara: FakeMadaraSite, http: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, madara, http, health=PROBE)
    madara.set_fault("error")
    result = await provider.health_check(10)
    assert (result.ok, result.stage, result.error_kind) == (False, "health", "http_status")


async def test_a_probe_on_the_mangathemesia_and_mangadex_fakes_passes(http: HttpClient) -> None:
    with FakeMangaThemesiaSite(slow_seconds=5) as themesia, FakeMangaDexSite() as dex:
        theme = make_provider(
            MangaThemesiaProvider, themesia, http, health={"probe": {"query": "a"}}
        )
        health = {"url": f"{dex.url}/ping", "probe": {"query": "the"}}
        mangadex = make_provider(MangaDexProvider, dex, http, health=health)
        for provider in (theme, mangadex):
            result = await provider.health_check(10)
            assert (result.ok, result.stage) == (True, None), (provider.id, result.error)


@pytest.mark.parametrize(
    ("fault", "kind"), [("challenge", "bot_challenge"), ("blocked", "bot_blocked")]
)
async def test_a_challenge_is_told_from_a_block(
    madara: FakeMadaraSite, http: HttpClient, fault: str, kind: str
) -> None:
    provider = make_provider(MadaraProvider, madara, http, health=PROBE)
    madara.set_fault(fault)
    result = await provider.health_check(10)
    assert (result.ok, result.error_kind, result.http_status, result.stage) == (
        False, kind, 403, "health",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "headers", "body", "wall"),
    [
        (403, {"cf-mitigated": "challenge"}, "", "challenge"),
        (200, {"cf-mitigated": "challenge"}, "", "challenge"),
        (503, {}, "<title>Just a moment...</title>", "challenge"),
        (403, {}, "<p>Checking your browser before accessing example.org</p>", "challenge"),
        (403, {}, "<title>Attention Required! | Cloudflare</title>", "block"),
        (403, {}, "<h1>Sorry, you have been blocked</h1>", "block"),
        (403, {}, "error code: 1020", "block"),
        (200, {}, "<title>Just a moment...</title>", None),  # a 200 page is the site's own
        (403, {}, "<h1>Forbidden</h1>", None),
    ],
)
def test_challenges_and_blocks_are_told_apart(
    status: int, headers: dict[str, str], body: str, wall: str | None
) -> None:
    response = HttpResponse(
        status_code=status, url="https://x/", headers=headers, content=body.encode()
    )
    assert bot_wall(response) == wall
