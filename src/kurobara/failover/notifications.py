"""Migration notices through an outbox: each user is told once per outage (``key``: the dead
provider and since when) that entries of theirs need another source, with a link to the
Migrate page, through the Apprise URLs of their notification settings (the Updates page).

Writing is ``INSERT ... ON CONFLICT DO NOTHING`` on ``(user_id, key)``, so however many
scouts and replicas see the same outage, one message is written; sending leases the row with a
conditional UPDATE, so one sender sends it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.failover.models import MigrationNeed, MigrationNotice
from kurobara.library.models import LibraryEntry
from kurobara.manga.models import Manga
from kurobara.monitoring.history import dialect_insert
from kurobara.updates.notifications import lease_and_send, unleased

logger = logging.getLogger("kurobara.failover.notify")

MIGRATE_PATH = "/migrate"
MAX_ATTEMPTS = 8


def notice_key(provider_id: str, since: datetime) -> str:
    return f"{provider_id}@{since.isoformat(timespec='seconds')}"


def notice_text(titles: list[str], provider_name: str, base_url: str) -> tuple[str, str]:
    """The message: "3 series need a new source" and which, with the Migrate page's link."""
    count = len(titles)
    title = f"{count} series need{'s' * (count == 1)} a new source"
    shown = ", ".join(titles[:5]) + (f" and {count - 5} more" if count > 5 else "")
    body = (
        f"{provider_name} is unavailable and {shown} "
        f"{'has' if count == 1 else 'have'} no other working source. "
        f"Candidates are waiting on the Migrate page: {base_url.rstrip('/')}{MIGRATE_PATH}"
    )
    return title, body


async def write_notices(
    *, db_session: AsyncSession, names: dict[str, str], base_url: str, now: datetime
) -> int:
    """One notice per user and outage for the needs of their library; the number written
    (those already written are left alone). Committed."""
    rows = (
        await db_session.execute(
            select(
                LibraryEntry.user_id, Manga.title, MigrationNeed.provider_id, MigrationNeed.since
            )
            .join(MigrationNeed, MigrationNeed.manga_id == LibraryEntry.manga_id)
            .join(Manga, Manga.id == LibraryEntry.manga_id)
            .order_by(LibraryEntry.user_id, Manga.title_key)
        )
    ).all()
    grouped: dict[tuple[Any, str, str], list[str]] = defaultdict(list)
    for user_id, title, provider_id, since in rows:
        grouped[(user_id, provider_id, notice_key(provider_id, since))].append(title)
    written = 0
    for (user_id, provider_id, key), titles in grouped.items():
        title, body = notice_text(titles, names.get(provider_id, provider_id), base_url)
        stmt = dialect_insert(db_session, MigrationNotice.__table__).values(
            user_id=user_id, key=key, title=title, body=body, created_at=now, attempts=0
        )
        result = await db_session.execute(
            stmt.on_conflict_do_nothing(index_elements=["user_id", "key"])
        )
        written += int(getattr(result, "rowcount", 0) or 0)
    await db_session.commit()
    return written


async def deliver(*, db_session: AsyncSession, now: datetime) -> int:
    """Send the pending notices; the number sent. A user without Apprise URLs (or with
    notifications off) has theirs marked sent: the Migrate page's badge tells them instead."""
    ids = (
        await db_session.scalars(
            select(MigrationNotice.id)
            .where(
                MigrationNotice.sent_at.is_(None),
                MigrationNotice.attempts < MAX_ATTEMPTS,
                unleased(MigrationNotice, now),
            )
            .order_by(MigrationNotice.id)
            .limit(100)
        )
    ).all()
    await db_session.commit()
    sent = 0
    for notice_id in ids:
        sent += await _deliver_one(db_session, notice_id, now)
    return sent


async def _deliver_one(db_session: AsyncSession, notice_id: int, now: datetime) -> int:
    sending = await lease_and_send(db_session, MigrationNotice, notice_id, now)
    if sending is None:
        return 0
    notice, urls, error = sending.row, sending.urls, sending.error
    values: dict[str, Any] = {"lease_until": None}
    if error is None:
        values["sent_at"] = now
    else:
        values.update(attempts=notice.attempts + 1, last_error=error[:1000])
        logger.warning("migration notice failed user=%s %s", notice.user_id, error)
    await db_session.execute(
        update(MigrationNotice).where(MigrationNotice.id == notice_id).values(**values)
    )
    await db_session.commit()
    if error is None and urls:
        logger.info("migration notice sent user=%s key=%s", notice.user_id, notice.key)
    return 1 if error is None and urls else 0
