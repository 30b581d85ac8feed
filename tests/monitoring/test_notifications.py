"""Down/up notifications: one per transition (even with two replicas sending), through the JSON
webhook and Apprise, and a slow or failing notifier never holds checks up."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kurobara.db.engine import Database
from kurobara.monitoring.jobs import Monitor
from kurobara.monitoring.models import ProviderTransition
from kurobara.monitoring.notifications import Notifier, notification_health
from kurobara.providers.fakes.server import BackgroundServer
from tests.factories import UserFactory
from tests.monitoring.conftest import ManualClock
from tests.monitoring.sites import PingSite
from tests.web.helpers import web_login


class Receiver:
    """A webhook endpoint on loopback that keeps what it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.delay = 0.0
        self.status = 200
        self.fail_next = 0  # answer 500 to this many webhook requests, then self.status
        self.app = Starlette(routes=[Route("/{name}", self.hook, methods=["POST"])])
        self.server = BackgroundServer(self.app, name="webhook-receiver")
        self.port = 0

    async def hook(self, request: Request) -> JSONResponse:
        body = await request.json()
        body["_idempotency_key"] = request.headers.get("idempotency-key")
        await asyncio.sleep(self.delay)
        if self.fail_next > 0 and request.path_params["name"] == "hook":
            self.fail_next -= 1
            body["_accepted"] = False
            self.received.append((request.path_params["name"], body))
            return JSONResponse({"ok": False}, status_code=500)
        body["_accepted"] = self.status < 400
        self.received.append((request.path_params["name"], body))
        return JSONResponse({"ok": True}, status_code=self.status)

    def url(self, name: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/{name}"

    def named(self, name: str) -> list[dict[str, Any]]:
        return [body for got, body in self.received if got == name]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    hub = Receiver()
    hub.port = hub.server.start("127.0.0.1", 0)
    yield hub
    hub.server.stop()


@pytest.fixture(autouse=True)
def fresh_receiver(receiver: Receiver) -> None:
    receiver.received.clear()
    receiver.delay = 0.0
    receiver.status = 200
    receiver.fail_next = 0


@pytest.fixture
def site_count() -> int:
    return 1


@pytest.fixture
def monitor_settings(receiver: Receiver) -> dict[str, object]:
    return {"notify_webhook": receiver.url("hook"), "notify_urls": receiver.url("apprise", "json")}


async def go_down(monitor: Monitor, clock: ManualClock, site: PingSite) -> None:
    site.set_fault("error")
    for _ in range(3):
        clock.advance(minutes=61)
        await monitor.step()


async def test_down_and_back_up_are_each_notified_once(
    monitor: Monitor, clock: ManualClock, site: PingSite, receiver: Receiver
) -> None:
    await monitor.step()
    assert await monitor.notifier.deliver_pending() == 0  # unknown -> active is not news
    await go_down(monitor, clock, site)
    assert await monitor.notifier.deliver_pending() == 1
    assert await monitor.notifier.deliver_pending() == 0
    site.set_fault("ok")
    clock.advance(minutes=61)
    await monitor.step()
    await monitor.notifier.deliver_pending()
    hooks = receiver.named("hook")
    assert [(h["event"], h["from_status"], h["to_status"]) for h in hooks] == [
        ("provider.down", "active", "down"),
        ("provider.up", "down", "active"),
    ]
    assert hooks[0]["provider_id"] == "site0"
    assert hooks[0]["error_kind"] == "http_status"


async def test_apprise_urls_receive_the_message(
    monitor: Monitor, clock: ManualClock, site: PingSite, receiver: Receiver
) -> None:
    await monitor.step()
    await go_down(monitor, clock, site)
    await monitor.notifier.deliver_pending()
    [message] = receiver.named("apprise")
    assert message["title"] == "Kurobara: Site0 is down"
    assert "site0" in message["message"]


async def test_two_replicas_send_each_transition_once(
    app: FastAPI, monitor: Monitor, clock: ManualClock, site: PingSite, receiver: Receiver,
    db_url: str,
) -> None:  # fmt: skip
    await monitor.step()
    await go_down(monitor, clock, site)
    other_db = Database(db_url)
    other = Notifier(db=other_db, http=app.state.http, settings=app.state.settings, clock=clock)
    try:
        sent = await asyncio.gather(
            monitor.notifier.deliver_pending(), other.deliver_pending(),
            monitor.notifier.deliver_pending(), other.deliver_pending(),
        )  # fmt: skip
    finally:
        await other_db.dispose()
    assert sum(sent) == 1
    assert len(receiver.named("hook")) == 1


async def test_a_notifier_failing_three_times_gets_the_message_once_with_one_id(
    monitor: Monitor, clock: ManualClock, site: PingSite, receiver: Receiver
) -> None:
    await monitor.step()
    await go_down(monitor, clock, site)
    receiver.fail_next = 3
    delivered = []
    for _ in range(6):
        delivered.append(await monitor.notifier.deliver_pending())
        clock.advance(minutes=10)  # past each backoff (30 s, 1 min, 2 min)
    assert delivered == [0, 0, 0, 1, 0, 0]
    hooks = receiver.named("hook")
    assert [h["_accepted"] for h in hooks] == [False, False, False, True]
    assert len({h["id"] for h in hooks}) == 1
    assert {h["_idempotency_key"] for h in hooks} == {f"kurobara-transition-{hooks[0]['id']}"}
    # Apprise accepted the first time: it is not sent again while the webhook is retried.
    assert len(receiver.named("apprise")) == 1


async def test_retries_back_off_and_failures_are_visible(
    monitor: Monitor, clock: ManualClock, site: PingSite, receiver: Receiver
) -> None:
    receiver.status = 500
    await monitor.step()
    await go_down(monitor, clock, site)
    await monitor.notifier.deliver_pending()
    await monitor.notifier.deliver_pending()  # not due yet: the first retry waits 30 s
    assert len(receiver.named("hook")) == 1
    clock.advance(seconds=31)
    await monitor.notifier.deliver_pending()
    assert len(receiver.named("hook")) == 2
    async with monitor.db.session() as session:
        health = await notification_health(db_session=session)
        flip = await session.scalar(
            select(ProviderTransition).where(ProviderTransition.to_status == "down")
        )
    assert flip is not None
    assert flip.notified_at is None
    assert flip.attempts == 2
    assert flip.next_attempt_at == clock.now() + timedelta(minutes=1)
    assert (health.pending, health.failing) == (1, 1)
    assert "webhook" in (health.last_error or "")


async def test_retrying_stops_after_a_day(
    monitor: Monitor, clock: ManualClock, site: PingSite, receiver: Receiver
) -> None:
    receiver.status = 500
    await monitor.step()
    await go_down(monitor, clock, site)
    for _ in range(30):
        await monitor.notifier.deliver_pending()
        clock.advance(hours=1)
    attempts = len(receiver.named("hook"))
    await monitor.notifier.deliver_pending()
    assert len(receiver.named("hook")) == attempts
    async with monitor.db.session() as session:
        health = await notification_health(db_session=session)
    assert (health.pending, health.given_up) == (0, 1)


async def test_a_slow_notifier_never_holds_checks_up(
    monitor: Monitor, clock: ManualClock, site: PingSite, receiver: Receiver
) -> None:
    receiver.delay = 3
    await monitor.step()
    await go_down(monitor, clock, site)
    sending = asyncio.create_task(monitor.notifier.deliver_pending())
    for _ in range(300):
        if receiver.named("hook"):
            break
        await asyncio.sleep(0.01)
    site.set_fault("ok")
    clock.advance(minutes=61)
    [report] = await monitor.step()
    assert report.status == "active"
    assert not sending.done()  # the check completed while the notification still waits
    await sending


async def test_admins_see_failing_notifications_on_the_page_and_in_metrics(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock,
    site: PingSite, receiver: Receiver,
) -> None:  # fmt: skip
    await users.bob()
    receiver.status = 500
    await monitor.step()
    await go_down(monitor, clock, site)
    await monitor.notifier.deliver_pending()
    scraped = (await client.get("/metrics")).text
    assert "kurobara_notifications_failing 1.0" in scraped
    assert "kurobara_notification_last_failure_timestamp_seconds" in scraped
    await web_login(client, "alice")
    page = (await client.get("/providers")).text
    assert "Notifications are failing." in page
    assert "webhook: HTTPStatusFailure" in page
    client.cookies.clear()
    await web_login(client, "bob")
    assert "Notifications are failing." not in (await client.get("/providers")).text
