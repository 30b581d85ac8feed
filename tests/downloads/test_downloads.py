"""Downloads through the HTTP stack against a loopback fake Madara site: a queued chapter
becomes a valid CBZ (pages in order, ComicInfo.xml), the reader uses it first (and reads it
while the site is down), deleting frees the file, and each user sees only their own queue."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import httpx

from kurobara.config import Settings
from kurobara.providers.fakes.images import page_svg
from kurobara.providers.fakes.madara import FakeMadaraSite
from tests.downloads.conftest import DownloaderFactory, Reader
from tests.factories import Persona


def cbz_files(settings: Settings) -> list[Path]:
    return sorted((settings.data_dir / "downloads").glob("*/*.cbz"))


async def test_a_queued_chapter_becomes_a_cbz_with_its_pages_in_order_and_comic_info(
    client: httpx.AsyncClient, alice: Persona, reader: Reader, downloaders: DownloaderFactory
) -> None:
    manga = await reader.manga(alice)
    chapter = (await reader.chapters(alice, manga["id"]))[1]
    [queued] = await reader.queue(alice, chapter["id"])
    assert (queued["state"], queued["pages_done"], queued["progress"]) == ("queued", 0, 0.0)

    assert await downloaders("a").step() == 1

    [row] = await reader.queue_of(alice)
    count = reader.page_count(0, chapter)
    assert (row["state"], row["pages_done"], row["page_count"]) == ("done", count, count)
    assert row["progress"] == 1.0
    assert row["size_bytes"] > 0
    response = await client.get(f"/api/v1/chapters/{chapter['id']}/download", headers=alice.headers)
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        info = ElementTree.fromstring(archive.read("ComicInfo.xml"))
        stored = [archive.read(name) for name in names[:-1]]
    assert names[:-1] == [f"{i:04d}.svg" for i in range(1, count + 1)]
    assert names[-1] == "ComicInfo.xml"
    assert info.findtext("Series") == manga["title"]
    assert info.findtext("Number") == chapter["number"]
    assert info.findtext("PageCount") == str(count)
    assert info.findtext("Web") == chapter["url"]
    # Page by page what the site serves for this chapter (every page differs: order counts).
    series = reader.site.catalog.series[0]
    numbers = range(1, count + 1)
    expected = [page_svg(series.title, chapter["number"], i, series.hue) for i in numbers]
    assert stored == expected


async def test_the_reader_uses_the_download_first_and_reads_it_while_the_site_is_down(
    client: httpx.AsyncClient,
    alice: Persona,
    reader: Reader,
    site: FakeMadaraSite,
    downloaders: DownloaderFactory,
) -> None:
    manga, chapter = await reader.first_chapter(alice)
    online = (await reader.pages(alice, manga["id"], chapter["id"])).json()["pages"]
    proxied = [(await client.get(page["url"])).content for page in online]
    await reader.queue(alice, chapter["id"])
    await downloaders("a").step()

    site.set_fault("down")
    assert (await reader.check(alice))["status"] == "down"
    response = await reader.pages(alice, manga["id"], chapter["id"])

    assert response.status_code == 200, response.text
    pages = response.json()["pages"]
    assert [p["url"] for p in pages] == [
        f"/api/v1/downloads/chapters/{chapter['id']}/pages/{i}" for i in range(1, len(online) + 1)
    ]
    offline = [await client.get(page["url"], headers=alice.headers) for page in pages]
    assert [r.status_code for r in offline] == [200] * len(online)
    assert [r.content for r in offline] == proxied
    assert offline[0].headers["content-type"].startswith("image/svg+xml")
    by_id = await client.get(f"/api/v1/chapters/{chapter['id']}/pages", headers=alice.headers)
    assert by_id.status_code == 200
    assert by_id.json()["pages"] == pages


async def test_a_chapter_not_downloaded_is_a_503_while_its_site_is_down(
    client: httpx.AsyncClient, alice: Persona, reader: Reader, site: FakeMadaraSite
) -> None:
    _manga, chapter = await reader.first_chapter(alice)
    site.set_fault("down")
    await reader.check(alice)
    response = await client.get(f"/api/v1/chapters/{chapter['id']}/pages", headers=alice.headers)
    assert response.status_code == 503
    assert response.json()["detail"]["reason"] == "down"
    unknown = "00000000-0000-4000-8000-000000000000"
    missing = await client.get(f"/api/v1/chapters/{unknown}/pages", headers=alice.headers)
    assert missing.status_code == 404


async def test_deleting_a_download_frees_its_file(
    client: httpx.AsyncClient,
    alice: Persona,
    reader: Reader,
    settings: Settings,
    downloaders: DownloaderFactory,
) -> None:
    _manga, chapter = await reader.first_chapter(alice)
    [row] = await reader.queue(alice, chapter["id"])
    await downloaders("a").step()
    assert len(cbz_files(settings)) == 1
    usage = await reader.usage(alice)
    assert usage["chapters"] == 1
    assert usage["bytes"] == cbz_files(settings)[0].stat().st_size

    deleted = await client.delete(f"/api/v1/downloads/{row['id']}", headers=alice.headers)

    assert deleted.status_code == 204
    assert cbz_files(settings) == []
    assert await reader.queue_of(alice) == []
    usage = await reader.usage(alice)
    assert usage == {"bytes": 0, "chapters": 0, "pending": 0}
    gone = await client.get(f"/api/v1/chapters/{chapter['id']}/download", headers=alice.headers)
    assert gone.status_code == 404
    again = await client.delete(f"/api/v1/downloads/{row['id']}", headers=alice.headers)
    assert again.status_code == 404


async def test_cancelling_a_queued_download_means_nothing_is_fetched(
    client: httpx.AsyncClient, alice: Persona, reader: Reader, downloaders: DownloaderFactory
) -> None:
    _manga, chapter = await reader.first_chapter(alice)
    [row] = await reader.queue(alice, chapter["id"])
    await client.delete(f"/api/v1/downloads/{row['id']}", headers=alice.headers)

    assert await downloaders("a").step() == 0


async def test_bob_neither_sees_nor_deletes_alices_downloads(
    client: httpx.AsyncClient,
    alice: Persona,
    bob: Persona,
    reader: Reader,
    downloaders: DownloaderFactory,
) -> None:
    _manga, chapter = await reader.first_chapter(alice)
    [row] = await reader.queue(alice, chapter["id"])
    await downloaders("a").step()

    assert await reader.queue_of(bob) == []
    refused = await client.delete(f"/api/v1/downloads/{row['id']}", headers=bob.headers)
    assert refused.status_code == 404
    file = await client.get(f"/api/v1/chapters/{chapter['id']}/download", headers=bob.headers)
    assert file.status_code == 404
    usage = await reader.usage(bob)
    assert usage == {"bytes": 0, "chapters": 0, "pending": 0}
    assert [r["id"] for r in await reader.queue_of(alice)] == [row["id"]]


async def test_a_chapter_both_download_is_one_file_kept_until_both_delete_it(
    client: httpx.AsyncClient,
    alice: Persona,
    bob: Persona,
    reader: Reader,
    settings: Settings,
    downloaders: DownloaderFactory,
) -> None:
    _manga, chapter = await reader.first_chapter(alice)
    [mine] = await reader.queue(alice, chapter["id"])
    await downloaders("a").step()
    [theirs] = await reader.queue(bob, chapter["id"])
    assert theirs["state"] == "done"  # the file is there already: nothing to fetch
    assert await downloaders("a").step() == 0

    await client.delete(f"/api/v1/downloads/{mine['id']}", headers=alice.headers)
    assert len(cbz_files(settings)) == 1
    kept = await client.get(f"/api/v1/chapters/{chapter['id']}/download", headers=bob.headers)
    assert kept.status_code == 200
    await client.delete(f"/api/v1/downloads/{theirs['id']}", headers=bob.headers)
    assert cbz_files(settings) == []


async def test_unknown_chapters_are_a_404_that_lists_them_and_queue_nothing(
    client: httpx.AsyncClient, alice: Persona, reader: Reader
) -> None:
    _manga, chapter = await reader.first_chapter(alice)
    unknown = "00000000-0000-4000-8000-000000000000"
    response = await client.post(
        "/api/v1/downloads", json={"chapter_ids": [chapter["id"], unknown]}, headers=alice.headers
    )
    assert response.status_code == 404
    assert response.json()["detail"]["chapter_ids"] == [unknown]
    assert await reader.queue_of(alice) == []


async def test_bad_requests_are_4xx(client: httpx.AsyncClient, alice: Persona) -> None:
    bodies = [{}, {"chapter_ids": []}, {"chapter_ids": ["nope"]}, {"chapter_ids": "x"}]
    for body in bodies:
        response = await client.post("/api/v1/downloads", json=body, headers=alice.headers)
        assert response.status_code == 422, body
    assert (await client.delete("/api/v1/downloads/nope", headers=alice.headers)).status_code == 422
    missing = await client.post(
        "/api/v1/manga/00000000-0000-4000-8000-000000000000/download", headers=alice.headers
    )
    assert missing.status_code == 404
    anonymous = await client.get("/api/v1/downloads")
    assert anonymous.status_code == 401


async def test_download_unread_queues_the_chapters_not_read(
    client: httpx.AsyncClient, alice: Persona, reader: Reader
) -> None:
    manga = await reader.manga(alice)
    chapters = await reader.chapters(alice, manga["id"])
    marked = await client.post(
        f"/api/v1/manga/{manga['id']}/chapters/read",
        json={"up_to": chapters[0]["id"]},
        headers=alice.headers,
    )
    assert marked.status_code == 200, marked.text

    unread = await client.post(f"/api/v1/manga/{manga['id']}/download", headers=alice.headers)
    everything = await client.post(
        f"/api/v1/manga/{manga['id']}/download", json={"chapters": "all"}, headers=alice.headers
    )

    assert unread.status_code == 201
    assert {r["chapter_id"] for r in unread.json()} == {c["id"] for c in chapters[1:]}
    assert {r["chapter_id"] for r in everything.json()} == {c["id"] for c in chapters}
    assert len(await reader.queue_of(alice)) == len(chapters)


async def test_the_auto_download_rule_is_off_until_switched_on(
    client: httpx.AsyncClient, alice: Persona
) -> None:
    before = await client.get("/api/v1/downloads/rules", headers=alice.headers)
    saved = await client.put(
        "/api/v1/downloads/rules", json={"favorites_new_chapters": True}, headers=alice.headers
    )
    refused = await client.put(
        "/api/v1/downloads/rules", json={"favorites_new_chapters": "yes"}, headers=alice.headers
    )
    after = await client.get("/api/v1/downloads/rules", headers=alice.headers)
    assert before.json() == {"favorites_new_chapters": False}
    assert saved.json() == after.json() == {"favorites_new_chapters": True}
    assert refused.status_code == 422
