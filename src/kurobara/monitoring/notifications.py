"""Down/up notifications from the transition outbox: Apprise URLs (``KUROBARA_NOTIFY_URLS``)
and a plain JSON webhook (``KUROBARA_NOTIFY_WEBHOOK``).

Delivery is at-least-once, and each message carries a stable id (the transition's id: ``id``
in the webhook's JSON and its ``Idempotency-Key`` header, ``[#id]`` in Apprise messages), so a
receiver that sees a message twice can drop the copy. A transition row is born with
``notified_at`` NULL. A sender takes it with a conditional UPDATE that sets a short send lease
(so two replicas never send it at the same moment), sends with no database connection held,
then records the outcome: every channel accepted → ``notified_at``; a channel failed → the
error, the channels that did accept (never sent again), and the next attempt after an
exponential backoff (30 s, 1 min, 2 min … at most 1 h) until the transition is
``GIVE_UP_AFTER`` old. A sender that dies mid-send leaves a lease that expires; the message is
then sent again (at least once, never lost). Failures show on the admin's Providers page and in
``/metrics``. Sending runs in its own task with a bounded timeout, never in the check path, so a
slow or hanging notifier delays no check.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara import __version__
from kurobara.background import deliver_until_stopped
from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.monitoring.models import ProviderTransition as PT
from kurobara.providers.http import HttpClient

logger = logging.getLogger("kurobara.monitoring.notify")

# Per message and channel: a notifier slower than this is reported as failed.
SEND_TIMEOUT_SECONDS = 10.0
# The name the webhook goes by in the shared HttpClient (no provider rate applies to it).
WEBHOOK_CLIENT_ID = "notify-webhook"
# Outbox rows taken per pass; the rest wait for the next pass.
BATCH = 100
# Pending rows of other replicas (or of one that died) and due retries are looked for this often.
POLL_SECONDS = 15.0
# Retry backoff: the first retry after FIRST_RETRY, doubling, at most MAX_RETRY_DELAY apart,
# until the transition is GIVE_UP_AFTER old.
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY_DELAY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt (1-based)."""
    delay: timedelta = FIRST_RETRY * 2 ** max(0, attempts - 1)
    return min(delay, MAX_RETRY_DELAY)


def message_id(row: PT) -> str:
    return f"kurobara-transition-{row.id}"


def payload(row: PT) -> dict[str, Any]:
    event = "provider.down" if row.to_status == "down" else "provider.up"
    return {
        "id": row.id,
        "event": event,
        "provider_id": row.provider_id,
        "provider_name": row.provider_name,
        "from_status": row.from_status,
        "to_status": row.to_status,
        "at": row.at.isoformat(),
        "error_kind": row.error_kind,
        "error_message": row.error_message,
    }


def message(row: PT) -> tuple[str, str]:
    if row.to_status == "down":
        title = f"Kurobara: {row.provider_name} is down"
        reason = f"{row.error_kind}: {row.error_message}" if row.error_kind else "checks failing"
        return title, f"{row.provider_name} ({row.provider_id}) went down: {reason} [#{row.id}]"
    return (
        f"Kurobara: {row.provider_name} is back",
        f"{row.provider_name} ({row.provider_id}) is active again. [#{row.id}]",
    )


def _sendable(now: datetime) -> Any:
    return (
        PT.notified_at.is_(None),
        PT.gave_up_at.is_(None),
        or_(PT.next_attempt_at.is_(None), PT.next_attempt_at <= now),
        or_(PT.send_lease_until.is_(None), PT.send_lease_until <= now),
    )


async def claim(
    *, db_session: AsyncSession, transition_id: int, now: datetime, lease_until: datetime
) -> PT | None:
    """Take one pending transition for a send attempt; None when another sender has it (or it
    is sent, given up, or not due yet)."""
    result = await db_session.execute(
        update(PT)
        .where(PT.id == transition_id, *_sendable(now))
        .values(send_lease_until=lease_until)
    )
    await db_session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await db_session.get(PT, transition_id, populate_existing=True)


async def record_attempt(
    *,
    db_session: AsyncSession,
    transition_id: int,
    now: datetime,
    delivered: set[str],
    errors: list[str],
) -> None:
    """The outcome of one attempt, in one short transaction."""
    row = await db_session.get(PT, transition_id, populate_existing=True)
    if row is None:
        return
    row.attempts += 1
    row.last_attempt_at = now
    row.send_lease_until = None
    row.delivered = ",".join(sorted(delivered)) or None
    if not errors:
        row.notified_at = now
        row.next_attempt_at = None
    else:
        row.notify_error = "; ".join(errors)[:1000]
        if now - row.at >= GIVE_UP_AFTER:
            row.gave_up_at = now
            logger.error(
                "notification given up provider=%s transition=%d attempts=%d",
                row.provider_id,
                row.id,
                row.attempts,
            )
        else:
            row.next_attempt_at = now + retry_delay(row.attempts)
    await db_session.commit()


@dataclass(frozen=True)
class NotificationHealth:
    """What admins see of the outbox: pending messages, those failing, and the last error."""

    pending: int
    failing: int
    given_up: int
    last_error: str | None
    last_error_at: datetime | None
    last_error_provider: str | None


async def notification_health(*, db_session: AsyncSession) -> NotificationHealth:
    open_rows = PT.notified_at.is_(None)
    pending, failing, given_up = (
        await db_session.execute(
            select(
                func.count().filter(open_rows, PT.gave_up_at.is_(None)),
                func.count().filter(open_rows, PT.gave_up_at.is_(None), PT.attempts > 0),
                func.count().filter(open_rows, PT.gave_up_at.is_not(None)),
            )
        )
    ).one()
    last = (
        await db_session.execute(
            select(PT.notify_error, PT.last_attempt_at, PT.provider_id)
            .where(open_rows, PT.notify_error.is_not(None))
            .order_by(PT.last_attempt_at.desc())
            .limit(1)
        )
    ).first()
    return NotificationHealth(
        pending=int(pending),
        failing=int(failing),
        given_up=int(given_up),
        last_error=last.notify_error if last else None,
        last_error_at=last.last_attempt_at if last else None,
        last_error_provider=last.provider_id if last else None,
    )


class Notifier:
    def __init__(
        self, *, db: Database, http: HttpClient, settings: Settings, clock: Clock | None = None
    ) -> None:
        self.db = db
        self.http = http  # the app's one outbound client
        self.urls = list(settings.notify_urls)
        self.webhook = settings.notify_webhook
        self.clock: Clock = clock or SystemClock()
        self.wake = asyncio.Event()

    @property
    def configured(self) -> bool:
        return bool(self.urls or self.webhook)

    def channels(self) -> dict[str, str | None]:
        """Channel key -> Apprise URL (None: the webhook). Keys are stable across restarts."""
        found: dict[str, str | None] = {}
        if self.webhook:
            found["webhook"] = None
        for url in self.urls:
            found["apprise:" + hashlib.sha256(url.encode()).hexdigest()[:12]] = url
        return found

    async def deliver_pending(self) -> int:
        """Try what the outbox holds that is due; the number of transitions delivered in full.
        No database connection is held while a message is sent."""
        now = self.clock.now()
        async with self.db.session() as session:
            ids = list(
                (
                    await session.scalars(
                        select(PT.id).where(*_sendable(now)).order_by(PT.id).limit(BATCH)
                    )
                ).all()
            )
        sent = 0
        for transition_id in ids:
            sent += await self._attempt(transition_id)
        return sent

    async def _attempt(self, transition_id: int) -> int:
        now = self.clock.now()
        lease = now + timedelta(seconds=SEND_TIMEOUT_SECONDS * (len(self.channels()) + 1))
        async with self.db.session() as session:
            row = await claim(
                db_session=session, transition_id=transition_id, now=now, lease_until=lease
            )
        if row is None:
            return 0
        delivered = set((row.delivered or "").split(",")) - {""}
        errors = await self._send(row, delivered) if self.configured else []
        async with self.db.session() as session:
            await record_attempt(
                db_session=session,
                transition_id=transition_id,
                now=self.clock.now(),
                delivered=delivered,
                errors=errors,
            )
        return 0 if errors else 1

    async def _send(self, row: PT, delivered: set[str]) -> list[str]:
        """Send to every channel not yet delivered; adds the ones that accept to ``delivered``."""
        errors: list[str] = []
        for key, url in self.channels().items():
            if key in delivered:
                continue
            try:
                if url is None:
                    await self._post_webhook(row)
                else:
                    await self._apprise(row, url)
            except Exception as exc:
                name = "webhook" if url is None else "apprise"
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
            else:
                delivered.add(key)
        for error in errors:
            logger.warning(
                "notification failed provider=%s transition=%d attempt=%d %s",
                row.provider_id,
                row.id,
                row.attempts + 1,
                error,
            )
        if not errors:
            logger.info(
                "notified provider=%s transition=%d %s->%s",
                row.provider_id,
                row.id,
                row.from_status,
                row.to_status,
            )
        return errors

    async def _post_webhook(self, row: PT) -> None:
        assert self.webhook is not None
        await self.http.post(
            WEBHOOK_CLIENT_ID,
            self.webhook,
            json=payload(row),
            headers={
                "User-Agent": f"Kurobara/{__version__} notifier",
                "Idempotency-Key": message_id(row),
            },
            timeout=SEND_TIMEOUT_SECONDS,
        )

    async def _apprise(self, row: PT, url: str) -> None:
        import apprise

        client = apprise.Apprise()
        client.add(url)
        title, body = message(row)
        kind = apprise.NotifyType.FAILURE if row.to_status == "down" else apprise.NotifyType.SUCCESS
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            result = await client.async_notify(body=body, title=title, notify_type=kind)
        if not result:
            raise RuntimeError("the Apprise URL did not accept the message")

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until ``stopping`` is set: at once when woken, else every POLL_SECONDS."""
        await deliver_until_stopped(
            stopping,
            self.wake,
            self.deliver_pending,
            poll_seconds=POLL_SECONDS,
            logger=logger,
            what="notification",
        )
