"""The ``mangadex`` kind by the API's rules, against a fake MangaDex that checks them: chapters
not yet published and taken-down ones left out, chapters hosted elsewhere kept and marked
``external_url``, every scanlation group credited, search limited to titles with chapters in
the instance's languages, and the at-home endpoint's own request budget and 429 pause."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from kurobara.monitoring.rules import ACTIVE, StatusState, apply_result
from kurobara.providers.definitions import ProviderDefinition
from kurobara.providers.errors import ProviderError
from kurobara.providers.fakes.mangadex import SECOND_GROUP, FakeMangaDexSite
from kurobara.providers.http import HttpClient
from kurobara.providers.mangadex import MangaDexProvider


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMangaDexSite]:
    with FakeMangaDexSite(name="fake-mangadex-rules", slow_seconds=5) as running:
        yield running


@pytest.fixture(autouse=True)
def unlimited(site: FakeMangaDexSite) -> Iterator[None]:
    yield
    site.at_home_limit = None


@pytest.fixture
def make(site: FakeMangaDexSite, http: HttpClient) -> Callable[..., MangaDexProvider]:
    def build(**overrides: Any) -> MangaDexProvider:
        definition = ProviderDefinition.model_validate(site.definition(**overrides))
        return MangaDexProvider(definition, http)

    return build


def with_extras(site: FakeMangaDexSite) -> str:
    return next(sid for sid, items in site.withheld.items() if items)


async def test_future_and_unavailable_chapters_are_left_out(
    site: FakeMangaDexSite, make: Callable[..., MangaDexProvider]
) -> None:
    manga_id = with_extras(site)
    listed = {c.external_id for c in await make().get_chapters(manga_id)}
    withheld = {item.id for item in site.withheld[manga_id]}
    assert len(withheld) == 2
    assert not listed & withheld
    assert {item.id for item in site.feeds[manga_id] if item.language == "en"} == listed


async def test_the_fake_lists_them_to_a_client_that_does_not_ask(
    site: FakeMangaDexSite, http: HttpClient
) -> None:
    manga_id = with_extras(site)
    url = f"{site.url}/manga/{manga_id}/feed"
    everything = await http.get_json("raw", url, params={"limit": 500})
    flags = {"limit": 500, "includeFuturePublishAt": 0, "includeUnavailable": 0}
    published = await http.get_json("raw", url, params=flags)
    assert everything["total"] == published["total"] + 2
    unavailable = [c for c in everything["data"] if c["attributes"]["isUnavailable"]]
    assert len(unavailable) == 1


async def test_a_malformed_flag_is_a_validation_error(
    site: FakeMangaDexSite, http: HttpClient
) -> None:
    url = f"{site.url}/manga/{with_extras(site)}/feed"
    response = await http.get("raw", url, params={"includeUnavailable": "maybe"}, check=False)
    assert response.status_code == 400
    assert response.json()["errors"][0]["title"] == "validation_exception"


async def test_a_chapter_hosted_elsewhere_is_listed_as_external(
    site: FakeMangaDexSite, make: Callable[..., MangaDexProvider]
) -> None:
    manga_id = with_extras(site)
    chapters = await make().get_chapters(manga_id)
    external = [c for c in chapters if c.external_url is not None]
    assert len(external) == 1
    assert external[0].external_url.startswith("https://mangaplus.example.com/")  # type: ignore[union-attr]
    assert all(c.external_url is None for c in chapters if c is not external[0])
    assert await make().get_pages(external[0].external_id) == []


async def test_every_scanlation_group_is_credited(
    site: FakeMangaDexSite, make: Callable[..., MangaDexProvider]
) -> None:
    series = max(site.catalog.series, key=lambda s: len(s.chapters))
    chapters = await make().get_chapters(series.id)
    shared = [c for c in chapters if len(c.groups) == 2]
    assert shared
    assert shared[0].groups == [f"{site.name} scans", SECOND_GROUP]
    assert shared[0].scanlator == f"{site.name} scans & {SECOND_GROUP}"
    assert chapters[0].groups == [f"{site.name} scans"]


async def test_search_keeps_to_titles_with_chapters_in_the_instance_languages(
    site: FakeMangaDexSite, make: Callable[..., MangaDexProvider]
) -> None:
    french = site.catalog.by_id(site.french_only)
    assert french is not None
    english = {r.external_id for r in await make().search(french.title, limit=100)}
    in_french = {r.external_id for r in await make(languages=["fr"]).search(french.title)}
    unrestricted = make(search_languages_only=False)
    anywhere = {r.external_id for r in await unrestricted.search(french.title, limit=100)}
    assert french.id not in english
    assert french.id in in_french
    assert french.id in anywhere


async def test_the_at_home_endpoint_has_its_own_budget(
    site: FakeMangaDexSite, make: Callable[..., MangaDexProvider]
) -> None:
    provider = make(at_home_rate=2, rate_limit=50)  # one at-home request every 0.5 s
    chapter_ids = [item.id for item in site.feeds[site.catalog.series[0].id][:3]]
    started = time.perf_counter()
    for chapter_id in chapter_ids:
        assert await provider.get_pages(chapter_id)
    at_home = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(3):
        await provider.search("the", limit=1)
    api = time.perf_counter() - started
    assert at_home >= 0.95
    assert api < 0.9  # on the at-home budget, three searches would take a second


async def test_a_429_from_at_home_pauses_that_budget_only(
    site: FakeMangaDexSite, make: Callable[..., MangaDexProvider]
) -> None:
    provider = make(at_home_rate=50)
    chapter_ids = [item.id for item in site.feeds[site.catalog.series[0].id][:3]]
    site.at_home_limit = (2, 60)
    for chapter_id in chapter_ids[:2]:
        await provider.get_pages(chapter_id)
    with pytest.raises(ProviderError) as refused:
        await provider.get_pages(chapter_ids[2])
    assert refused.value.kind == "rate_limited"
    asked = site.at_home_requests
    with pytest.raises(ProviderError) as paused:
        await provider.get_pages(chapter_ids[2])
    assert paused.value.kind == "rate_limited"
    assert site.at_home_requests == asked  # the pause held: the site was not asked
    assert await provider.search("the", limit=1)  # the rest of the API is not paused


async def test_a_probe_that_meets_the_at_home_limit_is_not_a_failure(
    site: FakeMangaDexSite, make: Callable[..., MangaDexProvider]
) -> None:
    health = {"url": f"{site.url}/ping", "probe": {"query": "the"}}
    provider = make(at_home_rate=50, health=health)
    site.at_home_limit = (0, 60)
    result = await provider.health_check(10)
    assert (result.ok, result.error_kind, result.stage) == (False, "rate_limited", "pages")
    now = datetime(2026, 12, 2, tzinfo=UTC)
    applied = apply_result(StatusState(status=ACTIVE), result, now)
    assert (applied.state.status, applied.state.consecutive_failures) == (ACTIVE, 0)
