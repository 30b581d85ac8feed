"""Down/up notifications from the transition outbox: Apprise URLs (``KUROBARA_NOTIFY_URLS``)
and a plain JSON webhook (``KUROBARA_NOTIFY_WEBHOOK``).

A transition row is born with ``notified_at`` NULL. A sender claims it with a conditional
UPDATE (``... WHERE notified_at IS NULL``) and sends only when the row count says it won, so with
several replicas each transition is sent exactly once; a replica that dies after claiming loses
that one message rather than sending it twice (the healthchecks "flip" discipline). Sending runs
in its own task with a timeout, never in the check path, so a slow notifier delays nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara import __version__
from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.monitoring.models import ProviderTransition

logger = logging.getLogger("kurobara.monitoring.notify")

# Per message and channel: a notifier slower than this is reported as failed.
SEND_TIMEOUT_SECONDS = 10.0
# Outbox rows taken per pass; the rest wait for the next pass.
BATCH = 100
# Pending rows of other replicas (or of one that died) are looked for this often.
POLL_SECONDS = 15.0


def payload(row: ProviderTransition) -> dict[str, Any]:
    event = "provider.down" if row.to_status == "down" else "provider.up"
    return {
        "event": event,
        "provider_id": row.provider_id,
        "provider_name": row.provider_name,
        "from_status": row.from_status,
        "to_status": row.to_status,
        "at": row.at.isoformat(),
        "error_kind": row.error_kind,
        "error_message": row.error_message,
    }


def message(row: ProviderTransition) -> tuple[str, str]:
    if row.to_status == "down":
        title = f"Kurobara: {row.provider_name} is down"
        reason = f"{row.error_kind}: {row.error_message}" if row.error_kind else "checks failing"
        return title, f"{row.provider_name} ({row.provider_id}) went down: {reason}"
    return (
        f"Kurobara: {row.provider_name} is back",
        f"{row.provider_name} ({row.provider_id}) is active again.",
    )


async def claim(*, db_session: AsyncSession, transition_id: int, now: datetime) -> bool:
    result = await db_session.execute(
        update(ProviderTransition)
        .where(ProviderTransition.id == transition_id, ProviderTransition.notified_at.is_(None))
        .values(notified_at=now)
    )
    await db_session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


class Notifier:
    def __init__(self, *, db: Database, settings: Settings, clock: Clock | None = None) -> None:
        self.db = db
        self.urls = list(settings.notify_urls)
        self.webhook = settings.notify_webhook
        self.clock: Clock = clock or SystemClock()
        self.wake = asyncio.Event()
        self._http: httpx.AsyncClient | None = None

    @property
    def configured(self) -> bool:
        return bool(self.urls or self.webhook)

    async def deliver_pending(self) -> int:
        """Claim and send what the outbox holds; the number of transitions this call sent."""
        async with self.db.session() as session:
            pending = list(
                (
                    await session.scalars(
                        select(ProviderTransition)
                        .where(ProviderTransition.notified_at.is_(None))
                        .order_by(ProviderTransition.id)
                        .limit(BATCH)
                    )
                ).all()
            )
            sent = 0
            for row in pending:
                if not await claim(db_session=session, transition_id=row.id, now=self.clock.now()):
                    continue
                errors = await self._send(row) if self.configured else []
                if errors:
                    await session.execute(
                        update(ProviderTransition)
                        .where(ProviderTransition.id == row.id)
                        .values(notify_error="; ".join(errors)[:1000])
                    )
                    await session.commit()
                sent += 1
            return sent

    async def _send(self, row: ProviderTransition) -> list[str]:
        errors: list[str] = []
        if self.webhook:
            try:
                await self._post_webhook(row)
            except Exception as exc:
                errors.append(f"webhook: {type(exc).__name__}: {exc}")
        if self.urls:
            try:
                await self._apprise(row)
            except Exception as exc:
                errors.append(f"apprise: {type(exc).__name__}: {exc}")
        for error in errors:
            logger.warning("notification failed provider=%s %s", row.provider_id, error)
        if not errors:
            logger.info(
                "notified provider=%s transition=%s->%s",
                row.provider_id,
                row.from_status,
                row.to_status,
            )
        return errors

    async def _post_webhook(self, row: ProviderTransition) -> None:
        assert self.webhook is not None
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=SEND_TIMEOUT_SECONDS,
                headers={"User-Agent": f"Kurobara/{__version__} notifier"},
            )
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            response = await self._http.post(self.webhook, json=payload(row))
        response.raise_for_status()

    async def _apprise(self, row: ProviderTransition) -> None:
        import apprise

        client = apprise.Apprise()
        for url in self.urls:
            client.add(url)
        title, body = message(row)
        kind = apprise.NotifyType.FAILURE if row.to_status == "down" else apprise.NotifyType.SUCCESS
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            result = await client.async_notify(body=body, title=title, notify_type=kind)
        if not result:
            raise RuntimeError("one or more Apprise URLs did not accept the message")

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until ``stopping`` is set: at once when woken, else every POLL_SECONDS."""
        while not stopping.is_set():
            self.wake.clear()
            try:
                await self.deliver_pending()
            except Exception:
                logger.exception("notification pass failed")
            try:
                async with asyncio.timeout(POLL_SECONDS):
                    await self.wake.wait()
            except TimeoutError:
                pass

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
