"""The reader's layout per user and manga through the API: remembered per manga, a new manga
starting with the latest choice, one user's choice invisible to another, and bad input refused;
and the pure rule that picks the layout, table-tested."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from kurobara.reading.rules import ReaderLayout, reader_layout
from tests.factories import Persona
from tests.reading.conftest import import_manga

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("own", "latest", "expected"),
    [
        (None, None, ReaderLayout("ltr", "height", False)),
        (("rtl", "width"), None, ReaderLayout("rtl", "width", True)),
        (("rtl", "width"), ("vertical", "original"), ReaderLayout("rtl", "width", True)),
        (None, ("vertical", "original"), ReaderLayout("vertical", "original", False)),
        (("sideways", "width"), ("rtl", "height"), ReaderLayout("rtl", "height", False)),
        (("vertical", "stretch"), None, ReaderLayout("vertical", "width", True)),
        (("ltr", "zoom"), None, ReaderLayout("ltr", "height", True)),
        (("sideways", "width"), None, ReaderLayout("ltr", "height", False)),
    ],
)
def test_reader_layout(
    own: tuple[str, str] | None, latest: tuple[str, str] | None, expected: ReaderLayout
) -> None:
    assert reader_layout(own, latest) == expected


def path(manga_id: str) -> str:
    return f"/api/v1/manga/{manga_id}/reader-preferences"


async def layout(client: httpx.AsyncClient, who: Persona, manga_id: str) -> dict[str, Any]:
    response = await client.get(path(manga_id), headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def choose(
    client: httpx.AsyncClient, who: Persona, manga_id: str, mode: str, fit: str
) -> httpx.Response:
    return await client.put(path(manga_id), json={"mode": mode, "fit": fit}, headers=who.headers)


async def test_a_manga_never_opened_starts_left_to_right_fitted_to_the_height(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    manga = await import_manga(client, alice, site.catalog.series[0].id)
    assert await layout(client, alice, manga["id"]) == {
        "manga_id": manga["id"], "mode": "ltr", "fit": "height", "remembered": False,
    }  # fmt: skip


async def test_a_choice_is_remembered_per_manga(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    webtoon = await import_manga(client, alice, site.catalog.series[0].id)
    manga = await import_manga(client, alice, site.catalog.series[1].id)
    response = await choose(client, alice, webtoon["id"], "vertical", "width")
    assert response.status_code == 200, response.text
    assert response.json()["remembered"] is True
    assert (await choose(client, alice, manga["id"], "rtl", "height")).status_code == 200
    assert (await choose(client, alice, manga["id"], "rtl", "original")).status_code == 200
    first = await layout(client, alice, webtoon["id"])
    second = await layout(client, alice, manga["id"])
    assert (first["mode"], first["fit"], first["remembered"]) == ("vertical", "width", True)
    assert (second["mode"], second["fit"], second["remembered"]) == ("rtl", "original", True)


async def test_a_new_manga_starts_with_the_latest_choice(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    older = await import_manga(client, alice, site.catalog.series[0].id)
    newer = await import_manga(client, alice, site.catalog.series[1].id)
    fresh = await import_manga(client, alice, site.catalog.series[2].id)
    await choose(client, alice, older["id"], "vertical", "width")
    await choose(client, alice, newer["id"], "rtl", "height")
    started = await layout(client, alice, fresh["id"])
    assert (started["mode"], started["fit"], started["remembered"]) == ("rtl", "height", False)


async def test_one_users_choice_is_not_anothers(
    client: httpx.AsyncClient, alice: Persona, bob: Persona, site: FakeMangaDexSite
) -> None:
    manga = await import_manga(client, alice, site.catalog.series[3].id)
    await choose(client, alice, manga["id"], "vertical", "original")
    seen_by_bob = await layout(client, bob, manga["id"])
    assert (seen_by_bob["mode"], seen_by_bob["remembered"]) == ("ltr", False)


@pytest.mark.parametrize(
    "body",
    [
        {"mode": "sideways", "fit": "width"},
        {"mode": "ltr", "fit": "stretch"},
        {"mode": "ltr"},
        {"mode": "ltr", "fit": "width", "zoom": 2},
        {"mode": 1, "fit": "width"},
    ],
)
async def test_a_bad_choice_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, body: dict[str, Any]
) -> None:
    manga = await import_manga(client, alice, site.catalog.series[4].id)
    await choose(client, alice, manga["id"], "rtl", "width")
    response = await client.put(path(manga["id"]), json=body, headers=alice.headers)
    assert response.status_code == 422
    kept = await layout(client, alice, manga["id"])
    assert (kept["mode"], kept["fit"]) == ("rtl", "width")


async def test_an_unknown_manga_is_a_404(client: httpx.AsyncClient, alice: Persona) -> None:
    assert (await client.get(path(MISSING), headers=alice.headers)).status_code == 404
    response = await choose(client, alice, MISSING, "ltr", "width")
    assert response.status_code == 404
    assert (await client.get(path("not-an-id"), headers=alice.headers)).status_code == 422


async def test_it_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    assert (await client.get(path(MISSING))).status_code == 401
    response = await client.put(path(MISSING), json={"mode": "ltr", "fit": "width"})
    assert response.status_code == 401
