"""New-chapter notifications: settings per user, one message per run listing the new chapters
grouped by manga, sent once through the outbox to a loopback Apprise ``json://`` target, and
retried with backoff when the target fails."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from kurobara.updates.jobs import LibraryUpdater
from tests.factories import Persona, UserFactory
from tests.monitoring.conftest import ManualClock
from tests.monitoring.test_notifications import Receiver
from tests.updates.conftest import Library, update_now


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    hub = Receiver()
    hub.port = hub.server.start("127.0.0.1", 0)
    yield hub
    hub.server.stop()


@pytest.fixture(autouse=True)
def fresh_receiver(receiver: Receiver) -> None:
    receiver.received.clear()
    receiver.status = 200


async def notify(client: httpx.AsyncClient, who: Persona, **body: object) -> httpx.Response:
    return await client.patch("/api/v1/users/me/notifications", json=body, headers=who.headers)


async def test_settings_default_to_off_and_keep_what_was_not_given(
    client: httpx.AsyncClient, users: UserFactory, receiver: Receiver
) -> None:
    bob = await users.bob()
    default = await client.get("/api/v1/users/me/notifications", headers=bob.headers)
    await notify(client, bob, urls=[receiver.url("bob", "json")])
    changed = await notify(client, bob, scope="favorites")

    assert default.json() == {"urls": [], "scope": "off"}
    assert changed.json() == {"urls": [receiver.url("bob", "json")], "scope": "favorites"}


@pytest.mark.parametrize(
    "body",
    [{"scope": "everything"}, {"urls": ["not a url"]}, {"urls": "json://x"}, {"extra": 1}],
)
async def test_bad_settings_are_refused(
    client: httpx.AsyncClient, users: UserFactory, body: dict[str, object]
) -> None:
    bob = await users.bob()
    response = await notify(client, bob, **body)
    assert response.status_code == 422, response.text


async def test_one_message_per_run_lists_new_chapters_grouped_by_manga_sent_once(
    client: httpx.AsyncClient,
    users: UserFactory,
    library: Library,
    updater: LibraryUpdater,
    receiver: Receiver,
) -> None:
    bob, charlie = await users.bob(), await users.charlie()
    first, second = library.pick("site-a", 0), library.pick("site-a", 1)
    one = await library.add(bob, "site-a", first, favorite=True)
    two = await library.add(bob, "site-a", second)
    await library.add(charlie, "site-a", second)
    await notify(client, bob, urls=[receiver.url("bob", "json")], scope="library")
    await notify(client, charlie, urls=[receiver.url("charlie", "json")], scope="favorites")
    await update_now(client, bob, updater)
    numbers = [library.grow("site-a", first), library.grow("site-a", first)]
    library.grow("site-a", second)

    await update_now(client, bob, updater)
    sent = await updater.notifier.deliver_pending()
    again = await updater.notifier.deliver_pending()

    assert (sent, again) == (1, 0)  # charlie's scope is favorites: his manga is not one
    [message] = receiver.named("bob")
    assert "3 new chapters in 2 series" in message["title"]
    body = message["message"]
    assert (
        body.index(one["title"]) < body.index(f"Ch. {numbers[0]}") < body.index(f"Ch. {numbers[1]}")
    )
    assert two["title"] in body
    assert receiver.named("charlie") == []


async def test_a_failing_target_is_retried_with_backoff(
    client: httpx.AsyncClient,
    users: UserFactory,
    library: Library,
    updater: LibraryUpdater,
    receiver: Receiver,
    clock: ManualClock,
) -> None:
    bob = await users.bob()
    index = library.pick("site-a")
    await library.add(bob, "site-a", index)
    await notify(client, bob, urls=[receiver.url("bob", "json")], scope="library")
    await update_now(client, bob, updater)
    library.grow("site-a", index)
    await update_now(client, bob, updater)
    receiver.status = 500

    failed = await updater.notifier.deliver_pending()
    receiver.status = 200
    too_soon = await updater.notifier.deliver_pending()
    clock.advance(minutes=2)
    retried = await updater.notifier.deliver_pending()

    assert (failed, too_soon, retried) == (0, 0, 1)
    assert len(receiver.named("bob")) == 2  # the refused attempt, then the delivered one


async def test_scope_off_sends_nothing(
    client: httpx.AsyncClient,
    users: UserFactory,
    library: Library,
    updater: LibraryUpdater,
    receiver: Receiver,
) -> None:
    bob = await users.bob()
    index = library.pick("site-a")
    await library.add(bob, "site-a", index, favorite=True)
    await notify(client, bob, urls=[receiver.url("bob", "json")], scope="off")
    await update_now(client, bob, updater)
    library.grow("site-a", index)
    await update_now(client, bob, updater)

    assert await updater.notifier.deliver_pending() == 0
    assert receiver.named("bob") == []
