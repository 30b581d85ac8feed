"""How a user reads each manga (reading mode and page fit), kept on the server so the choice
follows the user from one device to the next.

Errors: ``MangaNotFound`` (from manga.service) when there is no manga with that id.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.manga.models import Manga
from kurobara.manga.service import MangaNotFound
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.reading.models import ReaderPreference
from kurobara.reading.rules import ReaderLayout, reader_layout


async def _require_manga(db_session: AsyncSession, manga_id: uuid.UUID) -> None:
    if await db_session.scalar(select(Manga.id).where(Manga.id == manga_id)) is None:
        raise MangaNotFound(manga_id)


async def get_layout(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID
) -> ReaderLayout:
    """The layout the reader opens this manga in for this user (see ``rules.reader_layout``)."""
    await _require_manga(db_session, manga_id)
    mine = ReaderPreference.user_id == user_id
    columns = (ReaderPreference.mode, ReaderPreference.fit)
    own = (await db_session.execute(
        select(*columns).where(mine, ReaderPreference.manga_id == manga_id)
    )).first()  # fmt: skip
    latest = None
    if own is None:
        latest = (await db_session.execute(
            select(*columns).where(mine).order_by(ReaderPreference.updated_at.desc()).limit(1)
        )).first()  # fmt: skip
    return reader_layout(
        None if own is None else (own.mode, own.fit),
        None if latest is None else (latest.mode, latest.fit),
    )


async def set_layout(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    manga_id: uuid.UUID,
    mode: str,
    fit: str,
    clock: Clock | None = None,
) -> ReaderLayout:
    """Remember this manga's mode and fit for this user (one upsert: two tabs saving at once
    leave one row, the later choice)."""
    await _require_manga(db_session, manga_id)
    now = (clock or SystemClock()).now()
    # Both dialects' INSERT has ON CONFLICT DO UPDATE.
    insert = (
        postgresql.insert if db_session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    values = {"mode": mode, "fit": fit, "updated_at": now}
    statement = insert(ReaderPreference).values(user_id=user_id, manga_id=manga_id, **values)
    try:
        await db_session.execute(
            statement.on_conflict_do_update(
                index_elements=[ReaderPreference.user_id, ReaderPreference.manga_id], set_=values
            )
        )
        await db_session.commit()
    except IntegrityError as exc:  # the manga was deleted since the check above
        await db_session.rollback()
        raise MangaNotFound(manga_id) from exc
    return ReaderLayout(mode, fit, remembered=True)
