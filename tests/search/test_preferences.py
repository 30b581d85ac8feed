"""Per-user search preferences (issue 13, item 4): NSFW providers and titles hidden until the
user shows them, a language choice that filters providers, through ``GET/PATCH
/api/v1/search/preferences``; each user's own, defaults without a row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from kurobara.search import rules
from tests.factories import Persona, UserFactory, write_providers_file

pytestmark = pytest.mark.usefixtures("healthy_sites")


@pytest.fixture
def settings_overrides(sites: dict[str, FakeMangaDexSite], tmp_path: Path) -> dict[str, object]:
    definitions = [
        sites["alpha"].definition(),
        sites["beta"].definition(nsfw=True),
        sites["gamma"].definition(language="ja"),
    ]
    return {"providers_file": write_providers_file(tmp_path / "providers.yaml", definitions)}


async def prefs(client: httpx.AsyncClient, who: Persona, **change: Any) -> dict[str, Any]:
    if change:
        response = await client.patch("/api/v1/search/preferences", json=change,
                                      headers=who.headers)  # fmt: skip
    else:
        response = await client.get("/api/v1/search/preferences", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def asked(client: httpx.AsyncClient, who: Persona, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/search", params={"q": "the", "limit": 50, **params},
                                headers=who.headers)  # fmt: skip
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def statuses(body: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {p["provider_id"]: (p["status"], p.get("reason")) for p in body["providers"]}


async def test_it_hides_nsfw_and_asks_every_language_by_default(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    assert await prefs(client, bob) == {
        "show_nsfw": False, "languages": [], "available_languages": ["en", "ja"],
    }  # fmt: skip
    body = await asked(client, bob)
    assert statuses(body) == {"alpha": ("ok", None), "gamma": ("ok", None)}
    assert body["results"]
    assert not any(r["nsfw"] for r in body["results"])


async def test_showing_nsfw_asks_nsfw_providers_and_keeps_nsfw_titles(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    hidden = await asked(client, bob, providers="alpha")
    assert (await prefs(client, bob, show_nsfw=True))["show_nsfw"] is True
    shown = await asked(client, bob)
    assert set(statuses(shown)) == {"alpha", "beta", "gamma"}
    assert any(r["nsfw"] for r in shown["results"] if r["provider_id"] == "alpha")
    alpha = list((await asked(client, bob, providers="alpha"))["results"])
    assert len(alpha) > len(hidden["results"])


async def test_a_language_choice_filters_providers(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    assert (await prefs(client, bob, languages=["JA"]))["languages"] == ["ja"]
    assert statuses(await asked(client, bob)) == {"gamma": ("ok", None)}
    # Named anyway: said why it is not asked.
    named = await asked(client, bob, providers="alpha,gamma")
    assert statuses(named)["alpha"] == ("skipped", rules.OTHER_LANGUAGE)
    assert (await prefs(client, bob, languages=[]))["languages"] == []
    assert set(statuses(await asked(client, bob))) == {"alpha", "gamma"}


async def test_preferences_are_each_users_own(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice, bob = await users.alice(), await users.bob()
    await prefs(client, alice, show_nsfw=True, languages=["en"])
    assert (await prefs(client, bob))["show_nsfw"] is False
    assert (await prefs(client, alice))["languages"] == ["en"]
    # A partial change keeps the other field.
    assert (await prefs(client, alice, show_nsfw=False))["languages"] == ["en"]


@pytest.mark.parametrize(
    "payload",
    [
        {"show_nsfw": "yes"},
        {"languages": ["english!"]},
        {"languages": "en"},
        {"languages": ["en"] * 21},
        {"colour": "blue"},
    ],
)
async def test_bad_preferences_are_422(
    client: httpx.AsyncClient, users: UserFactory, payload: dict[str, Any]
) -> None:
    bob = await users.bob()
    response = await client.patch("/api/v1/search/preferences", json=payload,
                                  headers=bob.headers)  # fmt: skip
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("nsfw", "language", "show_nsfw", "languages", "reason"),
    [
        (False, "en", False, (), None),
        (True, "en", False, (), rules.NSFW_HIDDEN),
        (True, "en", True, (), None),
        (False, "ja", False, ("en",), rules.OTHER_LANGUAGE),
        (False, "pt-br", False, ("pt",), None),
        (False, "pt", False, ("pt-br",), None),
        (False, "EN", False, ("en",), None),
        (True, "ja", False, ("en",), rules.NSFW_HIDDEN),
    ],
)
def test_left_out_reason(
    nsfw: bool, language: str, show_nsfw: bool, languages: tuple[str, ...], reason: str | None
) -> None:
    assert rules.left_out_reason(nsfw=nsfw, language=language, show_nsfw=show_nsfw,
                                 languages=languages) == reason  # fmt: skip
