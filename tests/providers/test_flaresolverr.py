"""FlareSolverr support (``KUROBARA_FLARESOLVERR_URL``) against a fake FlareSolverr and a fake
site that serves a Cloudflare-style challenge unless the request carries a clearance cookie
issued to its User-Agent: the challenge is passed once, the cookies and user agent are reused
for the provider until they expire, a block is never sent to the solver, and a solver that
fails leaves the provider's failure a ``bot_challenge``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from kurobara.config import Settings
from kurobara.providers.errors import ProviderError
from kurobara.providers.fakes.flaresolverr import BROWSER_AGENT, FakeFlareSolverr
from kurobara.providers.fakes.madara import FakeMadaraSite
from kurobara.providers.flaresolverr import clearance_from, request_body
from kurobara.providers.http import HttpClient
from kurobara.providers.madara import MadaraProvider
from tests.providers.conftest import make_provider


@pytest.fixture(scope="module")
def solver() -> Iterator[FakeFlareSolverr]:
    with FakeFlareSolverr() as running:
        yield running


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite(name="fake-madara-guarded", slow_seconds=5) as running:
        yield running


@pytest.fixture(autouse=True)
def guarded(site: FakeMadaraSite, solver: FakeFlareSolverr) -> Iterator[None]:
    site.set_fault("guarded")
    solver.requests.clear()
    solver.failing = False
    yield
    site.set_fault("ok")


@pytest.fixture
async def client(solver: FakeFlareSolverr) -> AsyncIterator[HttpClient]:
    settings = Settings(_env_file=None, flaresolverr_url=solver.url, check_timeout=10)  # type: ignore[call-arg]
    http = HttpClient.from_settings(settings, user_agent="kurobara-tests")
    yield http
    await http.aclose()


async def test_without_flaresolverr_the_guarded_site_is_a_challenge(
    site: FakeMadaraSite, http: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, site, http)
    result = await provider.health_check(5)
    assert (result.ok, result.error_kind) == (False, "bot_challenge")


async def test_the_challenge_is_passed_once_and_the_clearance_reused(
    site: FakeMadaraSite, solver: FakeFlareSolverr, client: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, site, client)
    result = await provider.health_check(10)
    assert result.ok, result.error
    series = site.catalog.series[0]
    assert (await provider.get_manga_details(series.slug)).title == series.title
    assert await provider.get_chapters(series.slug)
    assert len(solver.requests) == 1
    [asked] = solver.requests
    assert asked["cmd"] == "request.get"
    assert asked["url"].startswith(site.url)
    assert isinstance(asked["maxTimeout"], int)
    assert set(site.clearances.values()) == {BROWSER_AGENT}


async def test_an_expired_clearance_is_renewed(
    site: FakeMadaraSite, solver: FakeFlareSolverr, client: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, site, client)
    assert (await provider.health_check(10)).ok
    assert client.solver is not None
    spent = client.solver.clearances[provider.id]
    client.solver.clearances[provider.id] = replace(spent, expires_at=time.time() - 1)
    assert (await provider.health_check(10)).ok
    assert len(solver.requests) == 2


async def test_a_clearance_the_site_stops_taking_is_solved_again(
    site: FakeMadaraSite, solver: FakeFlareSolverr, client: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, site, client)
    assert (await provider.health_check(10)).ok
    site.clearances.clear()  # the site rotated its clearances
    assert (await provider.health_check(10)).ok
    assert len(solver.requests) == 2


async def test_a_solver_that_fails_leaves_a_bot_challenge(
    site: FakeMadaraSite, solver: FakeFlareSolverr, client: HttpClient
) -> None:
    solver.failing = True
    provider = make_provider(MadaraProvider, site, client)
    result = await provider.health_check(10)
    assert (result.ok, result.error_kind) == (False, "bot_challenge")
    assert len(solver.requests) == 1


async def test_a_block_is_not_sent_to_the_solver(
    site: FakeMadaraSite, solver: FakeFlareSolverr, client: HttpClient
) -> None:
    site.set_fault("blocked")
    with pytest.raises(ProviderError) as caught:
        await client.get("blocked-site", site.url)
    assert caught.value.kind == "bot_blocked"
    assert solver.requests == []


def test_the_request_and_the_reply_as_flaresolverr_documents_them() -> None:
    assert request_body("https://example.org/", 60) == {
        "cmd": "request.get", "url": "https://example.org/", "maxTimeout": 60000,
    }  # fmt: skip
    now = 1_700_000_000.0
    reply = {
        "status": "ok",
        "message": "Challenge solved!",
        "solution": {
            "url": "https://example.org/",
            "status": 200,
            "response": "<html>ok</html>",
            "userAgent": "Mozilla/5.0 test",
            "cookies": [
                {"name": "cf_clearance", "value": "abc", "expires": now + 600},
                {"name": "session", "value": "x", "expires": -1},
            ],
        },
    }
    clearance = clearance_from(reply, "https://example.org/", now=now)
    assert clearance.expires_at == now + 600
    assert clearance.valid_for("https://example.org/manga/x/", now=now + 1)
    assert not clearance.valid_for("https://cdn.example.net/1.jpg", now=now + 1)
    assert not clearance.valid_for("https://example.org/", now=now + 601)
    headers = clearance.apply({"Cookie": "wpmanga-adault=1", "Referer": "r"})
    assert headers == {
        "Referer": "r",
        "User-Agent": "Mozilla/5.0 test",
        "Cookie": "wpmanga-adault=1; cf_clearance=abc; session=x",
    }
    with pytest.raises(ProviderError) as failed:
        clearance_from({"status": "error", "message": "Timeout"}, "https://example.org/")
    assert failed.value.kind == "bot_challenge"
