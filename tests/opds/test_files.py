"""Chapters this server holds as CBZ files (uploaded local archives): listed in the Downloaded
feed, each downloadable (an acquisition link) and streamable page by page from the archive."""

from __future__ import annotations

import io
import zipfile

import httpx

from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from tests.factories import Persona
from tests.images.archives import make_zip, png
from tests.opds.client import REL_ACQUISITION, REL_STREAM, OpdsReader
from tests.reading.conftest import import_manga


async def upload(client: httpx.AsyncClient, who: Persona, pages: int) -> dict[str, object]:
    data = make_zip((f"{n:03d}.png", png(n)) for n in range(1, pages + 1))
    response = await client.post(
        "/api/v1/manga/upload",
        headers=who.headers,
        files={"file": ("Pocket Book.cbz", data, "application/vnd.comicbook+zip")},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_an_uploaded_chapter_is_downloadable_and_streamable(
    client: httpx.AsyncClient, alice: Persona, reader: OpdsReader
) -> None:
    await upload(client, alice, pages=3)
    downloaded = await reader.feed("/opds/downloaded")
    [entry] = downloaded.entries
    assert entry.title.startswith("Pocket Book · ")

    archive = entry.link(REL_ACQUISITION)
    assert archive.type == "application/vnd.comicbook+zip"
    file = await reader.get(archive.href)
    assert file.status_code == 200
    assert file.headers["content-type"] == "application/vnd.comicbook+zip"
    with zipfile.ZipFile(io.BytesIO(file.content)) as cbz:
        assert len([n for n in cbz.namelist() if n.endswith(".png")]) == 3

    stream = entry.link(REL_STREAM)
    assert stream.count == 3
    second = await reader.get(stream.href.replace("{pageNumber}", "1").replace("{maxWidth}", "600"))
    assert second.status_code == 200
    assert (second.headers["content-type"], second.content) == ("image/png", png(2))


async def test_a_chapter_held_nowhere_as_a_file_has_no_download(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, reader: OpdsReader
) -> None:
    manga = await import_manga(client, alice, site.catalog.series[6].id)
    chapters = await reader.feed(f"/opds/manga/{manga['id']}")
    entry = chapters.entries[0]
    assert REL_ACQUISITION not in entry.rels()
    chapter_id = entry.id.rsplit(":", 1)[1]
    refused = await reader.get(f"/opds/manga/{manga['id']}/chapters/{chapter_id}/file")
    assert refused.status_code == 404
    assert "not held as a file" in refused.json()["detail"]


async def test_another_users_upload_is_not_in_my_downloaded_feed(
    client: httpx.AsyncClient, alice: Persona, bob: Persona, reader: OpdsReader
) -> None:
    await upload(client, bob, pages=1)
    assert (await reader.feed("/opds/downloaded")).entries == []
