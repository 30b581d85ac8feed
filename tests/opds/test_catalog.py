"""The OPDS catalog as a reader app sees it (issue 16 item 5): every feed fetched, validated
against the Atom/OPDS schema and walked by its links — start → library → a manga's chapters →
a chapter's page stream — on SQLite and PostgreSQL, with the faked site on loopback."""

from __future__ import annotations

import httpx

from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from tests.factories import MangaFactory, Persona
from tests.opds.client import REL_STREAM, OpdsReader, parse
from tests.reading.conftest import chapters_of, import_manga


async def add_to_library(client: httpx.AsyncClient, who: Persona, manga_id: str) -> None:
    response = await client.post(f"/api/v1/library/{manga_id}", headers=who.headers)
    assert response.status_code in (200, 201), response.text


def stream_url(href: str, page: int, width: int = 1080) -> str:
    return href.replace("{pageNumber}", str(page)).replace("{maxWidth}", str(width))


async def test_a_reader_walks_from_the_start_to_a_page_image(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, reader: OpdsReader
) -> None:
    series = site.catalog.series[0]
    manga = await import_manga(client, alice, series.id)
    await add_to_library(client, alice, manga["id"])

    start = await reader.feed("/opds")
    assert start.kind == "navigation"
    assert [e.title for e in start.entries] == [
        "Library", "Favorites", "Categories", "Recently updated", "Downloaded chapters",
    ]  # fmt: skip
    library = await reader.feed(start.entry("Library").link("subsection").href)
    [entry] = library.entries
    assert entry.title == series.title
    assert entry.link("http://opds-spec.org/image/thumbnail").href.startswith("/api/v1/images/")

    chapters = await reader.feed(entry.link("subsection").href)
    assert chapters.kind == "acquisition"
    listed = (await chapters_of(client, alice, manga["id"]))["chapters"]
    assert [e.id for e in chapters.entries] == [f"urn:kurobara:chapter:{c['id']}" for c in listed]
    first = chapters.entries[0]
    # Never opened: its page count is unknown, so it leads to a feed that lists its pages.
    pages_feed = await reader.feed(first.link("subsection").href)
    stream = pages_feed.entries[0].link(REL_STREAM)
    pages = await client.get(
        f"/api/v1/manga/{manga['id']}/chapters/{listed[0]['id']}/pages", headers=alice.headers
    )
    assert stream.count == len(pages.json()["pages"])

    image = await reader.get(stream_url(stream.href, 0))
    assert image.status_code == 200, image.text
    assert image.headers["content-type"].startswith("image/")
    assert len(image.content) > 0
    last = await reader.get(stream_url(stream.href, stream.count - 1))
    assert last.status_code == 200
    past_the_end = await reader.get(stream_url(stream.href, stream.count))
    assert past_the_end.status_code == 404

    # Once opened, the manga's own feed streams the chapter directly.
    again = await reader.feed(entry.link("subsection").href)
    assert again.entries[0].link(REL_STREAM).count == stream.count


async def test_the_cover_the_catalog_names_is_served_without_more_sign_in(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, reader: OpdsReader
) -> None:
    manga = await import_manga(client, alice, site.catalog.series[1].id)
    await add_to_library(client, alice, manga["id"])
    [entry] = (await reader.feed("/opds/library")).entries
    cover = await client.get(entry.link("http://opds-spec.org/image").href)
    assert cover.status_code == 200
    assert cover.headers["content-type"].startswith("image/")


async def test_favorites_and_categories_have_their_own_feeds(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, reader: OpdsReader
) -> None:
    first = await import_manga(client, alice, site.catalog.series[2].id)
    second = await import_manga(client, alice, site.catalog.series[3].id)
    for manga in (first, second):
        await add_to_library(client, alice, manga["id"])
    await client.post(f"/api/v1/favorites/{first['id']}", headers=alice.headers)
    made = await client.post("/api/v1/categories/", json={"name": "Weekend"}, headers=alice.headers)
    category = made.json()
    assigned = await client.patch(
        f"/api/v1/library/{second['id']}",
        json={"category_ids": [category["id"]]},
        headers=alice.headers,
    )
    assert assigned.status_code == 200, assigned.text

    favorites = await reader.feed("/opds/favorites")
    assert [e.title for e in favorites.entries] == [first["title"]]
    categories = await reader.feed("/opds/categories")
    [tab] = categories.entries
    assert (tab.title, tab.content) == ("Weekend", "1 manga")
    weekend = await reader.feed(tab.link("subsection").href)
    assert (weekend.title, [e.title for e in weekend.entries]) == ("Weekend", [second["title"]])


async def test_another_users_category_is_not_found(
    client: httpx.AsyncClient, alice: Persona, bob: Persona, reader: OpdsReader
) -> None:
    made = await client.post("/api/v1/categories/", json={"name": "Bob's"}, headers=bob.headers)
    response = await reader.get(f"/opds/categories/{made.json()['id']}")
    assert response.status_code == 404


async def test_search_goes_through_the_opensearch_description(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, reader: OpdsReader
) -> None:
    wanted, other = site.catalog.series[4], site.catalog.series[5]
    for series in (wanted, other):
        await add_to_library(client, alice, (await import_manga(client, alice, series.id))["id"])
    start = await reader.feed("/opds")
    description = await reader.get(start.link("search").href)  # type: ignore[union-attr]
    assert description.headers["content-type"].startswith("application/opensearchdescription")
    template = description.text.split('template="')[1].split('"')[0]
    word = wanted.title.split()[-1]
    found = await reader.feed(template.replace("{searchTerms}", word))
    assert wanted.title in [e.title for e in found.entries]
    assert other.title not in [e.title for e in found.entries] or word in other.title


async def test_long_lists_are_paged_with_next_links(
    client: httpx.AsyncClient, alice: Persona, reader: OpdsReader, manga_factory: MangaFactory
) -> None:
    made = await manga_factory.create_many(53)
    bulk = await client.patch(
        "/api/v1/favorites/bulk",
        json={"manga_ids": [str(m.id) for m in made], "is_favorite": True},
        headers=alice.headers,
    )
    assert bulk.status_code == 200, bulk.text
    first = await reader.feed("/opds/library")
    assert (first.total, len(first.entries)) == (53, 50)
    assert first.link("previous") is None
    second = await reader.feed(first.link("next").href)  # type: ignore[union-attr]
    assert len(second.entries) == 3
    assert second.link("next") is None
    seen = {e.id for e in first.entries} | {e.id for e in second.entries}
    assert len(seen) == 53


async def test_an_empty_library_still_makes_valid_feeds(reader: OpdsReader) -> None:
    for href in ("/opds", "/opds/library", "/opds/favorites", "/opds/categories",
                 "/opds/recent", "/opds/downloaded"):  # fmt: skip
        feed = await reader.feed(href)
        assert feed.entries == [] or href == "/opds"


async def test_feeds_parse_as_the_schema_expects_even_with_odd_titles(
    client: httpx.AsyncClient, alice: Persona, reader: OpdsReader, manga_factory: MangaFactory
) -> None:
    odd = await manga_factory.create('Tom & Jerry <3 \x0b "quoted"')
    await add_to_library(client, alice, str(odd.id))
    response = await reader.get("/opds/library")
    [entry] = parse(response.content).entries
    assert entry.title == 'Tom & Jerry <3  "quoted"'


async def test_an_unknown_manga_is_not_found(reader: OpdsReader) -> None:
    response = await reader.get("/opds/manga/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
