"""The Downloader against a loopback fake site: a down provider's downloads wait (no failure
counted), real failures end as ``failed`` with the reason, a crash mid-chapter resumes on
another Downloader keeping the pages already on disk, and two Downloaders on one database never
fetch the same chapter."""

from __future__ import annotations

import asyncio
import uuid
import zipfile
from typing import Any

import httpx

from kurobara.downloads.jobs import Downloader
from kurobara.providers.fakes.images import page_svg
from kurobara.providers.fakes.madara import FakeMadaraSite
from tests.downloads.conftest import DownloaderFactory, Reader
from tests.factories import Persona
from tests.monitoring.conftest import ManualClock


async def one_row(reader: Reader, who: Persona) -> dict[str, Any]:
    [row] = await reader.queue_of(who)
    return row


async def pages_on_disk(worker: Downloader, row: dict[str, Any], at_least: int) -> int:
    """Wait (briefly) until the worker has written ``at_least`` pages of the row's chapter."""
    manga_id, chapter_id = uuid.UUID(row["manga_id"]), uuid.UUID(row["chapter_id"])
    async with asyncio.timeout(20):
        # Files on disk signal nothing to wait on: look every 10 ms.
        while len(worker.files.written_pages(manga_id, chapter_id)) < at_least:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    return len(worker.files.written_pages(manga_id, chapter_id))


async def test_a_down_providers_download_waits_and_runs_once_it_is_back(
    alice: Persona, reader: Reader, site: FakeMadaraSite, downloaders: DownloaderFactory
) -> None:
    _manga, chapter = await reader.first_chapter(alice)
    site.set_fault("down")
    assert (await reader.check(alice))["status"] == "down"
    await reader.queue(alice, chapter["id"])
    worker = downloaders("a")

    assert [await worker.step() for _ in range(3)] == [0, 0, 0]
    waiting = await one_row(reader, alice)
    assert (waiting["state"], waiting["reason"], waiting["attempts"]) == (
        "waiting", "provider down", 0,
    )  # fmt: skip

    site.set_fault("ok")
    assert (await reader.check(alice))["status"] == "active"
    assert await worker.step() == 1
    done = await one_row(reader, alice)
    assert (done["state"], done["reason"], done["attempts"]) == ("done", None, 0)


async def test_real_failures_are_retried_later_then_failed_with_the_reason(
    client: httpx.AsyncClient,
    alice: Persona,
    reader: Reader,
    site: FakeMadaraSite,
    clock: ManualClock,
    downloaders: DownloaderFactory,
) -> None:
    _manga, chapter = await reader.first_chapter(alice)
    await reader.queue(alice, chapter["id"])
    worker = downloaders("a")
    site.set_fault("error")

    assert await worker.step() == 1
    retry = await one_row(reader, alice)
    assert await worker.step() == 0  # not before its retry time
    clock.advance(seconds=31)
    assert await worker.step() == 1
    failed = await one_row(reader, alice)
    clock.advance(hours=1)
    assert await worker.step() == 0  # failed is final: no loop

    assert (retry["state"], retry["attempts"]) == ("queued", 1)
    assert retry["reason"].startswith("http_status")
    assert (failed["state"], failed["attempts"]) == ("failed", 2)
    assert "500" in failed["reason"]
    site.set_fault("ok")
    [again] = await reader.queue(alice, chapter["id"])  # asking again retries it
    assert (again["state"], again["attempts"], again["reason"]) == ("queued", 0, None)
    assert await worker.step() == 1
    assert (await one_row(reader, alice))["state"] == "done"


async def test_a_crash_mid_chapter_resumes_elsewhere_without_refetching_written_pages(
    alice: Persona, reader: Reader, clock: ManualClock, downloaders: DownloaderFactory
) -> None:
    manga = await reader.manga(alice, 2)
    chapters = await reader.chapters(alice, manga["id"])
    chapter = max(chapters, key=lambda c: reader.page_count(2, c))
    count = reader.page_count(2, chapter)
    [row] = await reader.queue(alice, chapter["id"])
    crashing, successor = downloaders("a", own_proxy=True), downloaders("b", own_proxy=True)

    run = asyncio.create_task(crashing.step())
    await pages_on_disk(crashing, row, at_least=2)
    run.cancel()  # the process dies: its lease is not handed back
    await asyncio.gather(run, return_exceptions=True)
    await asyncio.sleep(0.2)  # a page write already in its thread lands (or not) now
    kept = await pages_on_disk(crashing, row, at_least=0)

    assert await successor.step() == 0  # still leased by the dead one
    clock.advance(seconds=crashing.settings.download_lease_seconds + 1)
    assert await successor.step() == 1

    assert 2 <= kept < count
    assert successor.images.upstream_fetches == count - kept
    done = await one_row(reader, alice)
    assert (done["state"], done["pages_done"]) == ("done", count)
    series = reader.site.catalog.series[2]
    path = successor.files.cbz_path(uuid.UUID(row["manga_id"]), uuid.UUID(row["chapter_id"]))
    with zipfile.ZipFile(path) as archive:
        stored = [archive.read(name) for name in archive.namelist()[:-1]]
    assert stored == [page_svg(series.title, chapter["number"], i, series.hue)
                      for i in range(1, count + 1)]  # fmt: skip


async def test_a_stopped_downloader_hands_its_chapter_back_at_once(
    alice: Persona, reader: Reader, downloaders: DownloaderFactory
) -> None:
    manga = await reader.manga(alice, 2)
    chapters = await reader.chapters(alice, manga["id"])
    chapter = max(chapters, key=lambda c: reader.page_count(2, c))
    [row] = await reader.queue(alice, chapter["id"])
    stopping = downloaders("a")

    run = asyncio.create_task(stopping.step())
    await pages_on_disk(stopping, row, at_least=1)
    await stopping.stop()
    await asyncio.gather(run, return_exceptions=True)

    assert (await one_row(reader, alice))["state"] == "queued"
    assert await downloaders("b").step() == 1
    assert (await one_row(reader, alice))["state"] == "done"


async def test_two_downloaders_on_one_database_never_fetch_the_same_chapter(
    alice: Persona, reader: Reader, downloaders: DownloaderFactory
) -> None:
    manga = await reader.manga(alice, 3)
    chapters = (await reader.chapters(alice, manga["id"]))[:6]
    await reader.queue(alice, *[c["id"] for c in chapters])
    one = downloaders("a", own_proxy=True, concurrency=2)
    two = downloaders("b", own_proxy=True, concurrency=2)

    started = 0
    for _ in range(10):
        ran = await asyncio.gather(one.step(), two.step())
        started += sum(ran)
        if not any(ran):
            break

    rows = await reader.queue_of(alice)
    assert {r["state"] for r in rows} == {"done"}
    assert started == len(chapters)
    pages = sum(reader.page_count(3, c) for c in chapters)
    assert one.images.upstream_fetches + two.images.upstream_fetches == pages
    assert one.images.upstream_fetches > 0
    assert two.images.upstream_fetches > 0
