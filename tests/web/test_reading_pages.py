"""The reading loop's pages over HTTP: unread badges and Continue on the library cards, the
Updates page (the last run in words) and the History page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from kurobara.web.updates_pages import run_summary
from tests.factories import Persona, UserFactory, write_providers_file
from tests.web.helpers import web_login
from tests.web.test_browse_pages import imported


@pytest.fixture(scope="module")
def site() -> Iterator[FakeMangaDexSite]:
    with FakeMangaDexSite(name="md", slow_seconds=5) as running:
        yield running


@pytest.fixture
def settings_overrides(site: FakeMangaDexSite, tmp_path: Path) -> dict[str, object]:
    path = write_providers_file(tmp_path / "providers.yaml", [site.definition()])
    return {"providers_file": path, "check_timeout": 15.0}  # no test here waits one out


@pytest.fixture
async def bob(users: UserFactory, client: httpx.AsyncClient) -> Persona:
    persona = await users.bob()
    assert (await web_login(client, "bob")).status_code == 303
    return persona


@dataclass(frozen=True)
class Result:
    provider_id: str
    outcome: str | None
    new_chapters: int = 0
    reason: str | None = None
    error_kind: str | None = None


NAMES = {"md": "MangaDex", "toon": "Toonily"}


@pytest.mark.parametrize(
    ("outcomes", "words"),
    [
        ([], "No new chapters"),
        ([Result("md", "no_change")], "No new chapters · 1 unchanged"),
        (
            [Result("md", "new_chapters", 9), Result("md", "new_chapters", 5)]
            + [Result("md", "skipped", reason="down")] * 3
            + [Result("toon", "failed", error_kind="parse_error")],
            "14 new chapters in 2 series · 3 series skipped: MangaDex down"
            " · 1 failed: parse error on Toonily",
        ),
        (
            [Result("md", "new_chapters", 1), Result("x", "skipped", reason="disabled")],
            "1 new chapter in 1 series · 1 series skipped: x disabled",
        ),
        (
            [Result("md", "skipped", reason="down"), Result("toon", "skipped", reason="down")] * 2,
            "No new chapters · 4 series skipped: MangaDex down (2), Toonily down (2)",
        ),
    ],
)
def test_run_summary_says_what_a_run_did(outcomes: list[Result], words: str) -> None:
    assert run_summary(outcomes, NAMES) == words


async def chapters_of(client: httpx.AsyncClient, who: Persona, manga_id: str) -> list[Any]:
    response = await client.get(f"/api/v1/manga/{manga_id}/chapters", headers=who.headers)
    assert response.status_code == 200, response.text
    listed: list[Any] = response.json()["chapters"]
    return listed


async def test_library_cards_show_unread_counts_and_continue(
    client: httpx.AsyncClient, bob: Persona, site: FakeMangaDexSite
) -> None:
    body = await imported(client, bob, site.catalog.series[0].id)
    await client.post(f"/api/v1/library/{body['id']}", headers=bob.headers)
    chapters = await chapters_of(client, bob, body["id"])
    assert len(chapters) >= 3
    await client.patch(
        f"/api/v1/chapters/{chapters[0]['id']}/progress",
        json={"read": True},
        headers=bob.headers,
    )
    page = await client.get("/library")
    assert page.status_code == 200
    assert f"{len(chapters) - 1} unread" in page.text
    assert f'/manga/{body["id"]}/read/{chapters[1]["id"]}" data-continue' in page.text
    only_unread = await client.get("/library", params={"has_unread": "true"})
    assert only_unread.text.count("data-entry") == 1
    await client.post(
        f"/api/v1/manga/{body['id']}/chapters/read",
        json={"up_to": chapters[-1]["id"]},
        headers=bob.headers,
    )
    none_left = await client.get("/library", params={"has_unread": "true"})
    assert none_left.text.count("data-entry") == 0


async def test_updates_and_history_pages(
    client: httpx.AsyncClient, bob: Persona, site: FakeMangaDexSite
) -> None:
    empty = await client.get("/updates")
    assert empty.status_code == 200
    assert "No update has run yet" in empty.text
    assert "No new chapters yet" in empty.text
    nothing = await client.get("/history")
    assert "Nothing read yet" in nothing.text

    body = await imported(client, bob, site.catalog.series[1].id)
    await client.post(f"/api/v1/library/{body['id']}", headers=bob.headers)
    started = await client.post("/api/v1/library/updates", headers=bob.headers)
    assert started.status_code in (200, 201, 202), started.text
    after = await client.get("/updates")
    assert "No update has run yet" not in after.text

    chapters = await chapters_of(client, bob, body["id"])
    await client.patch(
        f"/api/v1/chapters/{chapters[0]['id']}/progress",
        json={"last_page": 2},
        headers=bob.headers,
    )
    history = await client.get("/history")
    assert history.status_code == 200
    assert body["title"] in history.text
    assert "Page 2" in history.text
    assert f'/read/{chapters[0]["id"]}"' in history.text


async def test_settings_page_shows_the_saved_notification_settings(
    client: httpx.AsyncClient, bob: Persona
) -> None:
    fresh = await client.get("/settings")
    assert "New-chapter notifications" in fresh.text
    assert re.search(r'value="off"\s+checked', fresh.text)
    saved = await client.patch(
        "/api/v1/users/me/notifications",
        json={"scope": "favorites", "urls": ["json://127.0.0.1:9/new-chapters"]},
        headers=bob.headers,
    )
    assert saved.status_code == 200, saved.text
    page = await client.get("/settings")
    assert re.search(r'value="favorites"\s+checked', page.text)
    assert "json://127.0.0.1:9/new-chapters</textarea>" in page.text
