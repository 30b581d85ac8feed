"""New-chapter notifications, per user, through an outbox (the provider down/up discipline of
``monitoring/notifications.py``, plus retries).

1. A finished run is *claimed* with a conditional UPDATE (``notified_at IS NULL``); the same
   transaction writes one ``update_notifications`` row per user with new chapters in scope
   (favorites or the whole library), listing them grouped by manga. So each run's messages are
   written exactly once, however many replicas race, and never inside the update path.
2. A pending message is *leased* with a conditional UPDATE, sent to the user's Apprise URLs,
   then marked ``sent_at``; a failure counts an attempt and waits (1 min, 2, 4, ... 6 h).
   A replica that dies between sending and marking sends that one message again after the
   lease: at least once on a crash, exactly once otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.background import deliver_until_stopped
from kurobara.db.engine import Database
from kurobara.library.models import LibraryEntry
from kurobara.manga.models import Manga
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.notify import send_apprise
from kurobara.reading.models import StoredChapter
from kurobara.updates import rules
from kurobara.updates.models import NotificationSettings, UpdateItem, UpdateNotification, UpdateRun

logger = logging.getLogger("kurobara.updates.notify")

# A message leased this long is someone's to send; after it, another replica may retry it.
LEASE = timedelta(seconds=60)
BATCH = 100
POLL_SECONDS = 15.0


async def write_messages(*, db_session: AsyncSession, run_id: uuid.UUID, now: datetime) -> int:
    """Claim a finished run and write its users' messages; the number written (0 when another
    sender claimed it first or nobody is to be told). Committed."""
    claimed = await db_session.execute(
        update(UpdateRun)
        .where(UpdateRun.id == run_id, UpdateRun.status == "done", UpdateRun.notified_at.is_(None))
        .values(notified_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await db_session.rollback()
        return 0
    found = await db_session.scalars(
        select(UpdateItem.new_chapter_ids).where(
            UpdateItem.run_id == run_id, UpdateItem.new_chapter_ids.is_not(None)
        )
    )
    chapter_ids = [uuid.UUID(i) for ids in found.all() for i in ids or ()]
    written = 0
    for user_id, chapters in (await _recipients(db_session, chapter_ids)).items():
        title, body = rules.message(chapters)
        db_session.add(
            UpdateNotification(
                run_id=run_id,
                user_id=user_id,
                title=title,
                body=body,
                chapters=len(chapters),
                created_at=now,
                next_attempt_at=now,
            )
        )
        written += 1
    await db_session.commit()
    return written


async def _recipients(
    db_session: AsyncSession, chapter_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[rules.NewChapter]]:
    """Per user who wants to hear of them: the chapters in their scope, oldest manga first."""
    if not chapter_ids:
        return {}
    wanted = or_(
        NotificationSettings.scope == "library",
        and_(NotificationSettings.scope == "favorites", LibraryEntry.is_favorite.is_(True)),
    )
    rows: list[Any] = []
    for start in range(0, len(chapter_ids), 500):
        rows += (
            await db_session.execute(
                select(LibraryEntry.user_id, Manga.title, StoredChapter)
                .join(StoredChapter, StoredChapter.manga_id == LibraryEntry.manga_id)
                .join(Manga, Manga.id == LibraryEntry.manga_id)
                .join(NotificationSettings, NotificationSettings.user_id == LibraryEntry.user_id)
                .where(
                    StoredChapter.id.in_(chapter_ids[start : start + 500]),
                    StoredChapter.first_seen_at > LibraryEntry.created_at,
                    wanted,
                )
                .order_by(LibraryEntry.user_id, Manga.title_key, StoredChapter.position)
            )
        ).all()
    found: dict[uuid.UUID, list[rules.NewChapter]] = defaultdict(list)
    for user_id, title, chapter in rows:
        label = chapter.number_text
        found[user_id].append(
            rules.NewChapter(manga_title=title, number=label, title=chapter.title)
        )
    return dict(found)


def unleased(outbox: type[Any], now: datetime) -> Any:
    """Rows of an outbox table that no sender holds now."""
    return or_(outbox.lease_until.is_(None), outbox.lease_until <= now)


@dataclass(frozen=True)
class Sending:
    row: Any  # the outbox row, as it was leased
    urls: list[str]  # the user's Apprise URLs it went to (none: notifications off)
    error: str | None  # why sending failed, or None


async def lease_and_send(
    db_session: AsyncSession, outbox: type[Any], row_id: int, now: datetime
) -> Sending | None:
    """Lease one unsent message of an ``outbox`` table (``id``, ``user_id``, ``title``,
    ``body``, ``sent_at``, ``lease_until``) with a conditional UPDATE, so one sender wins, and
    send it to its user's Apprise URLs with nothing held open meanwhile. None when another
    sender has it; the caller records the outcome and clears the lease."""
    leased = await db_session.execute(
        update(outbox)
        .where(
            outbox.id == row_id,
            outbox.sent_at.is_(None),
            unleased(outbox, now),
        )
        .values(lease_until=now + LEASE)
    )
    await db_session.commit()
    if leased.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = await db_session.get(outbox, row_id, populate_existing=True)
    assert row is not None
    settings = await db_session.get(NotificationSettings, row.user_id)
    await db_session.commit()  # nothing held open while sending
    urls = list(settings.urls) if settings is not None and settings.scope != "off" else []
    error = await send_apprise(urls, row.title, row.body) if urls else None
    return Sending(row=row, urls=urls, error=error)


class UpdateNotifier:
    def __init__(self, *, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.wake = asyncio.Event()

    async def deliver_pending(self) -> int:
        """Write the messages of finished runs, then send what is due; the number sent."""
        async with self.db.session() as session:
            runs = await session.scalars(
                select(UpdateRun.id)
                .where(UpdateRun.status == "done", UpdateRun.notified_at.is_(None))
                .order_by(UpdateRun.finished_at)
                .limit(BATCH)
            )
            for run_id in list(runs.all()):
                await write_messages(db_session=session, run_id=run_id, now=self.clock.now())
            now = self.clock.now()
            due = await session.scalars(
                select(UpdateNotification.id)
                .where(
                    UpdateNotification.sent_at.is_(None),
                    UpdateNotification.attempts < rules.MAX_SEND_ATTEMPTS,
                    UpdateNotification.next_attempt_at <= now,
                    unleased(UpdateNotification, now),
                )
                .order_by(UpdateNotification.id)
                .limit(BATCH)
            )
            ids = list(due.all())
            await session.commit()
            sent = 0
            for message_id in ids:
                sent += await self._deliver(session, message_id)
            return sent

    async def _deliver(self, session: AsyncSession, message_id: int) -> int:
        sending = await lease_and_send(session, UpdateNotification, message_id, self.clock.now())
        if sending is None:
            return 0
        message, error = sending.row, sending.error
        done = self.clock.now()
        values: dict[str, Any] = {"lease_until": None}
        if error is None:
            values["sent_at"] = done
        else:
            attempts = message.attempts + 1
            values.update(
                attempts=attempts,
                last_error=error[:1000],
                next_attempt_at=done + rules.retry_delay(attempts),
            )
            logger.warning(
                "new-chapter notification failed user=%s attempt=%d %s",
                message.user_id,
                attempts,
                error,
            )
        await session.execute(
            update(UpdateNotification).where(UpdateNotification.id == message_id).values(**values)
        )
        await session.commit()
        if error is None:
            logger.info(
                "notified user=%s run=%s chapters=%d",
                message.user_id,
                message.run_id,
                message.chapters,
            )
        return 1 if error is None else 0

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until ``stopping`` is set: at once when woken, else every POLL_SECONDS."""
        await deliver_until_stopped(
            stopping,
            self.wake,
            self.deliver_pending,
            poll_seconds=POLL_SECONDS,
            logger=logger,
            what="new-chapter notification",
        )
