"""The Sources page as forms over the HTTP stack: admins only, filters, enable and disable
through the same services as the API, and the community index with its hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest

from kurobara.catalog.service import bundled_definitions
from kurobara.providers.fakes.catalog_index import FakeCatalogIndex, offline_entries
from tests.factories import UserFactory
from tests.web.helpers import post_form, web_login


@pytest.fixture(scope="module")
def index() -> Iterator[FakeCatalogIndex]:
    server = FakeCatalogIndex(offline_entries(3, kind="mangathemesia", language="fr")).start()
    yield server
    server.stop()


@pytest.fixture
def settings_overrides(index: FakeCatalogIndex) -> dict[str, object]:
    return {"catalog_urls": [index.url]}


async def test_the_sources_page_is_for_admins_only(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    await web_login(client, "bob")
    assert (await client.get("/sources")).status_code == 403
    assert 'href="/sources"' not in (await client.get("/providers")).text
    refused = await post_form(client, "/sources/arabmanhwa", {"action": "enable"})
    assert refused.status_code == 403


async def test_admin_filters_by_language_kind_nsfw_and_name(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.alice()
    await web_login(client, "alice")
    page = await client.get(
        "/sources", params={"language": "es", "kind": "madara", "nsfw": "false"}
    )
    assert page.status_code == 200
    shown = {d.id for d in bundled_definitions() if f'data-source="{d.id}"' in page.text}
    expected = {
        d.id for d in bundled_definitions()
        if d.language == "es" and d.kind == "madara" and not d.nsfw
    }  # fmt: skip
    assert shown == expected
    assert shown
    named = bundled_definitions()[10]
    by_name = await client.get("/sources", params={"q": named.name})
    assert f'data-source="{named.id}"' in by_name.text


async def test_a_hand_edited_filter_shows_the_catalog_instead_of_an_error(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.alice()
    await web_login(client, "alice")
    page = await client.get("/sources", params={"kind": "nope", "page": "-3", "nsfw": "x"})
    assert page.status_code == 200
    assert 'data-total="' in page.text


async def test_admin_enables_a_source_and_it_is_on_the_providers_page(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.alice()
    await web_login(client, "alice")
    entry = bundled_definitions()[0]
    done = await post_form(
        client, f"/sources/{entry.id}", {"action": "enable", "here": "language=ar&page=1"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/sources?language=ar&page=1"
    assert f'data-provider-id="{entry.id}"' in (await client.get("/providers")).text
    listed = await client.get("/sources", params={"state": "enabled"})
    assert f'data-source="{entry.id}" data-state="enabled"' in listed.text
    await post_form(client, f"/sources/{entry.id}", {"action": "disable"})
    assert f'data-provider-id="{entry.id}"' not in (await client.get("/providers")).text


@pytest.mark.parametrize(
    ("entry_id", "action", "code"),
    [("no-such-site", "enable", 404), ("arabmanhwa", "explode", 422)],
)
async def test_refusals_are_pages_with_the_reason(
    client: httpx.AsyncClient, users: UserFactory, entry_id: str, action: str, code: int
) -> None:
    await users.alice()
    await web_login(client, "alice")
    refused = await post_form(client, f"/sources/{entry_id}", {"action": action})
    assert refused.status_code == code
    assert 'class="alert alert-error"' in refused.text


async def test_the_index_is_shown_with_its_content_hash_after_refresh_now(
    client: httpx.AsyncClient, users: UserFactory, index: FakeCatalogIndex
) -> None:
    await users.alice()
    await web_login(client, "alice")
    done = await post_form(client, "/sources/refresh")
    assert done.status_code == 303
    page = await client.get("/sources", params={"language": "fr", "kind": "mangathemesia"})
    digest = hashlib.sha256(index.json_body()).hexdigest()
    assert "<code data-hash" in page.text
    assert digest[:16] in page.text
    for entry in index.entries:
        assert f'data-source="{entry["id"]}"' in page.text
