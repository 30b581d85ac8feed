"""The Users page, the registration switch, invitation links and the API tokens of Settings,
driven as forms over the HTTP stack."""

from __future__ import annotations

import re

import httpx

from tests.factories import PASSWORD, UserFactory
from tests.web.helpers import post_form, web_login


async def test_users_page_is_for_admins_only(client: httpx.AsyncClient, users: UserFactory) -> None:
    await users.bob()
    await web_login(client, "bob")
    page = await client.get("/admin/users")
    assert page.status_code == 403
    assert "Admins only" in page.text
    assert "/admin/users" not in (await client.get("/settings")).text


async def test_admin_disables_a_user_from_the_users_page(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.alice()
    bob = await users.bob()
    await web_login(client, "alice")
    page = await client.get("/admin/users", params={"q": "bo"})
    assert page.status_code == 200
    assert 'data-user="bob"' in page.text
    assert 'data-user="alice"' not in page.text
    done = await post_form(client, f"/admin/users/{bob.id}", {"action": "disable"})
    assert done.status_code == 303
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 401
    assert "User disabled" in (await client.get("/admin/users")).text


async def test_the_page_refuses_to_demote_the_last_admin(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    await web_login(client, "alice")
    refused = await post_form(client, f"/admin/users/{alice.id}", {"action": "demote"})
    assert refused.status_code == 409
    assert "last active admin" in refused.text


async def test_closed_registration_with_an_invitation_link(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.alice()
    await web_login(client, "alice")
    await post_form(client, "/admin/registration", {"enabled": "off"})
    made = await post_form(client, "/admin/invitations", {"days": "3", "note": "dave"})
    link = re.search(r'value="([^"]+invitation=[^"]+)" aria-label="Invitation link"', made.text)
    assert link is not None
    await post_form(client, "/logout")
    closed = await client.get("/register")
    assert "Registration is closed" in closed.text
    invited = await client.get(link.group(1).replace("&amp;", "&"))
    assert "You were invited" in invited.text
    code = link.group(1).split("invitation=")[1]
    form = {"username": "dave", "email": "dave@example.org", "password": PASSWORD}
    joined = await post_form(client, "/register", {**form, "invitation": code})
    assert joined.status_code == 303
    await post_form(client, "/logout")
    spent = await client.get(f"/register?invitation={code}")
    assert "already used" in spent.text


async def test_settings_creates_shows_once_and_revokes_a_token(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    await web_login(client, "bob")
    made = await post_form(client, "/settings/tokens", {"name": "KOReader", "scope": "read"})
    secret = re.search(r'value="(kbt_[^"]+)"', made.text)
    assert secret is not None
    headers = {"Authorization": f"Bearer {secret.group(1)}"}
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 200
    again = await client.get("/settings")
    assert "KOReader" in again.text
    assert secret.group(1) not in again.text
    listed = (await client.get("/api/v1/tokens", headers=headers)).json()
    await post_form(client, f"/settings/tokens/{listed[0]['id']}/revoke")
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 401


async def test_settings_refuses_a_token_without_a_name(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.bob()
    await web_login(client, "bob")
    refused = await post_form(client, "/settings/tokens", {"name": " ", "scope": "read"})
    assert refused.status_code == 422
    assert "kbt_" not in refused.text
