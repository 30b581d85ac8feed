"""Uploading CBZ/ZIP archives through the API: a new local manga read through the same chapter
and page endpoints as any provider's, chapters added to it, and every refusal a clear 4xx that
leaves no file and no row behind."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kurobara.config import Settings
from tests.factories import MangaFactory, Persona, UserFactory
from tests.images.archives import comic_info, make_zip, pages, png

UPLOAD = "/api/v1/manga/upload"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"upload_max_bytes": 256 * 1024, "upload_max_unpacked_bytes": 2 * 1024 * 1024}


@pytest.fixture
async def bob(users: UserFactory) -> Persona:
    return await users.bob()


async def upload(
    client: httpx.AsyncClient,
    who: Persona,
    data: bytes,
    *,
    filename: str = "My Manga.cbz",
    **fields: str,
) -> httpx.Response:
    return await client.post(
        UPLOAD,
        headers=who.headers,
        files={"file": (filename, data, "application/vnd.comicbook+zip")},
        data=fields,
    )


def stored_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "local"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def library_size(client: httpx.AsyncClient, who: Persona) -> int:
    response = await client.get("/api/v1/library/", headers=who.headers)
    assert response.status_code == 200, response.text
    body: Any = response.json()
    return len(body) if isinstance(body, list) else len(body["items"])


async def test_a_cbz_becomes_a_readable_local_manga(
    client: httpx.AsyncClient, bob: Persona
) -> None:
    response = await upload(client, bob, make_zip(pages(3)))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] is True
    assert body["manga"]["title"] == "My Manga"
    assert body["manga"]["sources"][0]["provider_id"] == "local"
    assert [c["page_count"] for c in body["chapters"]] == [3]
    # The cover is the first page, on this server already: the proxy leaves it as it is.
    assert body["manga"]["cover_url"] == body["manga"]["cover_image"]
    assert body["manga"]["cover_url"].startswith("/api/v1/local/")
    manga_id, chapter_id = body["manga"]["id"], body["chapters"][0]["id"]

    listing = await client.get(f"/api/v1/manga/{manga_id}/chapters", headers=bob.headers)
    assert listing.status_code == 200, listing.text
    assert listing.json()["stale"] is False
    assert [c["id"] for c in listing.json()["chapters"]] == [chapter_id]

    page_list = await client.get(
        f"/api/v1/manga/{manga_id}/chapters/{chapter_id}/pages", headers=bob.headers
    )
    assert page_list.status_code == 200, page_list.text
    urls = [p["url"] for p in page_list.json()["pages"]]
    assert len(urls) == 3
    assert all(u.startswith("/api/v1/local/") for u in urls)
    image = await client.get(urls[1], headers=bob.headers)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content == png(2)


async def test_the_uploader_finds_it_in_the_library(
    client: httpx.AsyncClient, bob: Persona
) -> None:
    await upload(client, bob, make_zip(pages(1)))
    assert await library_size(client, bob) == 1
    [entry] = (await client.get("/api/v1/library/", headers=bob.headers)).json()
    assert entry["manga"]["cover_url"].startswith("/api/v1/local/")


async def test_folders_of_images_become_chapters(client: httpx.AsyncClient, bob: Persona) -> None:
    data = make_zip(pages(2, folder="Chapter 2") + pages(1, folder="Chapter 1"))
    response = await upload(client, bob, data, filename="Series.zip", title="Given Title")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["manga"]["title"] == "Given Title"
    assert [(c["title"], c["number"], c["page_count"]) for c in body["chapters"]] == [
        ("Chapter 1", "1", 1),
        ("Chapter 2", "2", 2),
    ]


async def test_comic_info_names_the_series_and_chapter(
    client: httpx.AsyncClient, bob: Persona
) -> None:
    data = make_zip([*pages(1), ("ComicInfo.xml", comic_info("Blue Rose", "4", "Thorns"))])
    body = (await upload(client, bob, data, filename="upload.cbz")).json()
    assert body["manga"]["title"] == "Blue Rose"
    assert (body["chapters"][0]["number"], body["chapters"][0]["title"]) == ("4", "Thorns")


async def test_chapters_are_added_to_an_existing_local_manga(
    client: httpx.AsyncClient, bob: Persona
) -> None:
    first = (await upload(client, bob, make_zip(pages(1)), filename="Chapter 1.cbz")).json()
    manga_id = first["manga"]["id"]
    response = await upload(
        client, bob, make_zip(pages(2)), filename="Chapter 2.cbz", manga_id=manga_id
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] is False
    listing = await client.get(f"/api/v1/manga/{manga_id}/chapters", headers=bob.headers)
    assert [c["number"] for c in listing.json()["chapters"]] == ["1", "2"]


async def test_the_stored_chapter_is_a_cbz_with_comic_info(
    client: httpx.AsyncClient, bob: Persona, settings: Settings
) -> None:
    await upload(client, bob, make_zip(pages(2)), filename="Chapter 5.cbz")
    [cbz] = [p for p in stored_files(settings) if p.suffix == ".cbz"]
    with zipfile.ZipFile(cbz) as archive:
        assert archive.namelist() == ["0001.png", "0002.png", "ComicInfo.xml"]
        assert b"<Number>5</Number>" in archive.read("ComicInfo.xml")


ZIP_BOMB = make_zip([("page1.png", png(1)), ("page2.png", png(2) + b"\x00" * 1_900_000)])


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (make_zip([("../../evil.png", png())]), "path_traversal"),
        (make_zip([*pages(1), ("notes.txt", b"hello")]), "not_image"),
        (make_zip([("page1.png", b"<script>alert(1)</script>")]), "not_image"),
        (ZIP_BOMB, "zip_bomb"),
        (b"this is not a zip", "not_zip"),
        (make_zip([("ComicInfo.xml", comic_info("Nothing"))]), "empty"),
    ],
    ids=["traversal", "text-entry", "fake-image", "zip-bomb", "not-zip", "no-image"],
)
async def test_refused_archives_leave_nothing_behind(
    client: httpx.AsyncClient, bob: Persona, settings: Settings, data: bytes, kind: str
) -> None:
    response = await upload(client, bob, data)
    assert response.status_code == 400, response.text
    assert response.json()["detail"]["kind"] == kind
    assert stored_files(settings) == []
    assert await library_size(client, bob) == 0


async def test_an_archive_that_unpacks_past_the_bound_is_a_413(
    client: httpx.AsyncClient, bob: Persona, settings: Settings
) -> None:
    # Stored, not deflated: each entry is its own size, under the ratio rule, over the total.
    big = [(f"p{i}.png", png(i) + bytes(range(256)) * 1500) for i in range(6)]
    response = await upload(client, bob, make_zip(big, compression=zipfile.ZIP_DEFLATED))
    assert response.status_code == 413, response.text
    assert stored_files(settings) == []


async def test_an_oversized_upload_is_a_413(
    client: httpx.AsyncClient, bob: Persona, settings: Settings
) -> None:
    response = await upload(client, bob, make_zip(pages(1)) + b"\xff" * 300 * 1024)
    assert response.status_code == 413
    assert stored_files(settings) == []


async def test_an_oversized_streamed_upload_is_a_413(
    client: httpx.AsyncClient, bob: Persona, settings: Settings
) -> None:
    """Without a Content-Length the body is counted as it arrives."""
    boundary = "kurobaraboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.cbz"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()

    async def body() -> AsyncIterator[bytes]:
        yield head
        for _ in range(40):
            yield b"\x00" * 16 * 1024
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await client.post(
        UPLOAD,
        headers={**bob.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(),
    )
    assert response.status_code == 413
    assert stored_files(settings) == []


async def test_chapters_go_only_to_local_manga(
    client: httpx.AsyncClient, bob: Persona, db: Any
) -> None:
    other = await MangaFactory(db).create("From a site", sources=[("md", "abc")])
    response = await upload(client, bob, make_zip(pages(1)), manga_id=str(other.id))
    assert response.status_code == 409
    missing = await upload(
        client, bob, make_zip(pages(1)), manga_id="00000000-0000-4000-8000-000000000000"
    )
    assert missing.status_code == 404


async def test_uploading_and_pages_need_a_login(client: httpx.AsyncClient, bob: Persona) -> None:
    refused = await client.post(UPLOAD, files={"file": ("a.cbz", make_zip(pages(1)))})
    assert refused.status_code == 401
    body = (await upload(client, bob, make_zip(pages(1)))).json()
    manga_id, chapter_id = body["manga"]["id"], body["chapters"][0]["id"]
    page_list = await client.get(
        f"/api/v1/manga/{manga_id}/chapters/{chapter_id}/pages", headers=bob.headers
    )
    url = page_list.json()["pages"][0]["url"]
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url.rsplit("/", 1)[0] + "/99", headers=bob.headers)).status_code == 404
