"""A chapter MangaDex only links to (``externalUrl``: an official publisher's reader) is listed
with its ``external_url``; asking for its pages is a 409 that carries the link, and the reader
page links out instead of showing an empty reader. Every scanlation group is credited."""

from __future__ import annotations

import httpx

from kurobara.providers.fakes.mangadex import SECOND_GROUP, FakeMangaDexSite
from tests.factories import Persona
from tests.reading.conftest import chapters_of, import_manga
from tests.web.helpers import web_login


async def test_an_external_chapter_links_out_instead_of_an_empty_reader(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    series = site.catalog.series[1]  # one of the series with an external chapter
    manga = await import_manga(client, alice, series.id)
    listed = (await chapters_of(client, alice, manga["id"]))["chapters"]
    [external] = [c for c in listed if c["external_url"]]
    assert external["external_url"].startswith("https://mangaplus.example.com/")
    pages = await client.get(
        f"/api/v1/manga/{manga['id']}/chapters/{external['id']}/pages", headers=alice.headers
    )
    assert pages.status_code == 409, pages.text
    assert pages.json()["detail"]["external_url"] == external["external_url"]
    readable = next(c for c in listed if not c["external_url"])
    fine = await client.get(
        f"/api/v1/manga/{manga['id']}/chapters/{readable['id']}/pages", headers=alice.headers
    )
    assert fine.status_code == 200, fine.text
    await web_login(client, "alice")
    page = await client.get(f"/manga/{manga['id']}/read/{external['id']}")
    assert page.status_code == 409
    assert f'href="{external["external_url"]}"' in page.text
    assert "data-external-chapter" in page.text


async def test_every_group_is_credited_in_the_chapter_list(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    series = max(site.catalog.series, key=lambda s: len(s.chapters))
    manga = await import_manga(client, alice, series.id)
    listed = (await chapters_of(client, alice, manga["id"]))["chapters"]
    assert f"{site.name} scans & {SECOND_GROUP}" in {c["scanlator"] for c in listed}
