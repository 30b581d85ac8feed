"""The shared client's limits: bodies capped and aborted past the cap (``too_large``), the
per-provider rate limiter (cancelled waiters give their slot back, the wait counts inside the
caller's deadline, a check's ``response_ms`` is the exchange alone), and a 429 pausing that
provider until its ``Retry-After``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator

import psutil
import pytest

from kurobara.config import Settings
from kurobara.providers.errors import ProviderError, retry_after_seconds
from kurobara.providers.fakes.madara import FakeMadaraSite
from kurobara.providers.http import HttpClient
from kurobara.providers.madara import MadaraProvider
from tests.providers.conftest import TIMEOUT, make_provider
from tests.providers.sites import PingSite, packed_body

# A check that must answer: its site is fast, but a loaded machine is not.
CHECK_TIMEOUT = 5.0

MiB = 1024 * 1024


@pytest.fixture
def site() -> Iterator[PingSite]:
    with PingSite(slow_seconds=5) as running:
        yield running


@pytest.fixture
def madara() -> Iterator[FakeMadaraSite]:
    with FakeMadaraSite(slow_seconds=5) as running:
        yield running


@contextlib.asynccontextmanager
async def peak_rss() -> AsyncIterator[list[int]]:
    """Samples this process's resident memory while the block runs: ``[before, peak]``."""
    process = psutil.Process()
    seen = [process.memory_info().rss] * 2

    async def sample() -> None:
        while True:
            seen[1] = max(seen[1], process.memory_info().rss)
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    try:
        yield seen
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler


async def kind_of(call: object) -> str:
    assert asyncio.iscoroutine(call)
    with pytest.raises(ProviderError) as caught:
        await call
    return caught.value.kind


# -- body caps ---------------------------------------------------------------------------------


async def test_an_endless_page_is_too_large_and_memory_stays_bounded(
    site: PingSite, http: HttpClient
) -> None:
    site.set_fault("huge")
    async with peak_rss() as rss:
        assert await kind_of(http.get("ping", site.url, timeout=30)) == "too_large"
    # The default page cap is 16 MiB; the socket buffers hold a few MiB more at most.
    assert site.bytes_sent < 48 * MiB
    assert rss[1] - rss[0] < 96 * MiB


async def test_a_compressed_page_is_capped_as_it_unpacks(site: PingSite, http: HttpClient) -> None:
    packed_body()  # compressed before the request, so that the site answers within the deadline
    assert await kind_of(http.get("ping", f"{site.url}/packed")) == "too_large"


async def test_health_check_of_a_site_answering_without_end_fails_too_large(
    madara: FakeMadaraSite, http: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, madara, http)
    madara.set_fault("huge")
    result = await provider.health_check(30)
    assert (result.ok, result.error_kind) == (False, "too_large")
    assert await kind_of(provider.search("a")) == "too_large"


# -- the rate limiter --------------------------------------------------------------------------


async def test_the_wait_for_a_slot_counts_inside_the_deadline(
    site: PingSite, http: HttpClient
) -> None:
    http.set_rate("ping", 0.5)  # a slot every 2 s
    await http.get("ping", site.url)
    assert await kind_of(http.get("ping", site.url, timeout=0.5)) == "timeout"


async def test_cancelled_waiters_give_their_slots_back(site: PingSite, http: HttpClient) -> None:
    http.set_rate("ping", 1)
    await http.get("ping", site.url)
    waiting = [asyncio.create_task(http.get("ping", site.url, timeout=60)) for _ in range(20)]
    await asyncio.sleep(0.1)
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    # Had the 20 cancelled callers kept their slots, the next one would wait 20 s.
    async with asyncio.timeout(10):
        response = await http.get("ping", site.url, timeout=5)
    assert response.status_code == 200


async def test_a_check_after_twenty_cancelled_searches_takes_its_own_timeout(
    madara: FakeMadaraSite, http: HttpClient
) -> None:
    # The case: 20 searches queued behind a slow provider and cancelled used to keep
    # their slots, so a check with timeout=1 behind them took 19.5 s. The check here has 5 s:
    # at one request a second it first waits up to a second for its own slot, and on CI's
    # loaded machine 1 s left too little for the request after that wait.
    provider = make_provider(MadaraProvider, madara, http, health={})
    http.set_rate(provider.id, 1)
    await http.get(provider.id, madara.url)
    searches = [asyncio.create_task(provider.search("a")) for _ in range(20)]
    await asyncio.sleep(0.1)
    for task in searches:
        task.cancel()
    await asyncio.gather(*searches, return_exceptions=True)
    started = time.perf_counter()
    result = await provider.health_check(CHECK_TIMEOUT)
    took = time.perf_counter() - started
    assert took < 10  # behind the cancelled searches' slots it would be 19 s or more
    assert result.ok, result.error
    assert result.response_ms is not None
    assert result.response_ms < CHECK_TIMEOUT * 1000


async def test_a_checks_response_time_is_the_exchange_not_the_queue(
    madara: FakeMadaraSite, http: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, madara, http, health={})
    http.set_rate(provider.id, 1 / 3)  # the check queues about 3 s behind the request below
    await http.get(provider.id, madara.url)
    result = await provider.health_check(10)
    assert result.ok
    assert result.response_ms is not None
    assert result.response_ms < 2500


# -- Retry-After -------------------------------------------------------------------------------


async def test_a_429_pauses_the_provider_until_its_retry_after(
    site: PingSite, http: HttpClient
) -> None:
    site.set_fault("ratelimit")  # Retry-After: 30
    assert await kind_of(http.get("ping", site.url)) == "rate_limited"
    site.set_fault("ok")
    asked = site.requests
    assert await kind_of(http.get("ping", site.url, timeout=TIMEOUT)) == "rate_limited"
    assert site.requests == asked
    # Another provider on the same client is not paused.
    assert (await http.get("other", site.url)).status_code == 200


async def test_x_ratelimit_retry_after_as_a_unix_time_pauses_too(
    site: PingSite, http: HttpClient
) -> None:
    assert await kind_of(http.get("ping", f"{site.url}/limited")) == "rate_limited"
    asked = site.requests
    assert await kind_of(http.get("ping", site.url, timeout=TIMEOUT)) == "rate_limited"
    assert site.requests == asked


async def test_pages_and_images_have_their_own_caps(madara: FakeMadaraSite) -> None:
    http = HttpClient(user_agent="t", timeout=5, max_page_bytes=1000, max_image_bytes=MiB)
    cover = madara.absolute(f"/wp-content/uploads/covers/{madara.catalog.series[0].slug}.svg")
    try:
        with pytest.raises(ProviderError) as caught:
            await http.get("md", madara.url)  # the home page declares more than 1 000 bytes
        image = await http.get("md", cover, body="image")
    finally:
        await http.aclose()
    assert (caught.value.kind, caught.value.status_code) == ("too_large", 200)
    assert image.headers["content-type"].startswith("image/svg+xml")


async def test_the_caps_come_from_the_settings() -> None:
    settings = Settings(_env_file=None, http_max_page_bytes=65536, http_max_image_bytes=131072)
    http = HttpClient.from_settings(settings)
    assert http.max_bytes == {"page": 65536, "image": 131072}
    await http.aclose()


async def test_a_health_check_while_paused_is_rate_limited_without_asking(
    madara: FakeMadaraSite, http: HttpClient
) -> None:
    provider = make_provider(MadaraProvider, madara, http, health={})
    madara.set_fault("ratelimit")
    await provider.health_check(TIMEOUT)
    madara.set_fault("ok")
    asked = madara.requests
    result = await provider.health_check(TIMEOUT)
    assert (result.ok, result.error_kind, result.rate_limited) == (False, "rate_limited", True)
    assert madara.requests == asked


async def test_the_pause_is_bounded_by_the_client(site: PingSite) -> None:
    http = HttpClient(user_agent="t", timeout=5, max_retry_after=0.5)
    try:
        site.set_fault("ratelimit")  # asks for 30 s
        assert await kind_of(http.get("ping", site.url)) == "rate_limited"
        site.set_fault("ok")
        assert (await http.get("ping", site.url)).status_code == 200
    finally:
        await http.aclose()


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "30"}, 30.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:29:00 GMT"}, 30.0),
        ({"X-RateLimit-Retry-After": "1445412510"}, 0.0),  # already past
        ({"X-RateLimit-Retry-After": "1445412540"}, 30.0),
        ({"X-RateLimit-Retry-After": "12"}, 12.0),
        ({"Retry-After": "5", "X-RateLimit-Retry-After": "1445412520"}, 10.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after_headers(headers: dict[str, str], seconds: float | None) -> None:
    now = 1445412510.0  # 2015-10-21 07:28:30 UTC
    lowered = {name.lower(): value for name, value in headers.items()}
    assert retry_after_seconds(lowered, now=now) == seconds
