"""The Updates feed: chapters that appeared in a user's library, newest first.

A chapter is "new" for a user when it was first seen after the manga entered their library,
and not in its source's first fetch: the first fetch of a list stores the whole back catalog
at once, and a series added yesterday whose chapters were first fetched today must not show
its 300 old chapters as new.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from kurobara.library.models import LibraryEntry
from kurobara.manga.models import Manga
from kurobara.reading.models import ChapterProgress, StoredChapter


@dataclass(frozen=True)
class FeedItem:
    chapter: StoredChapter
    manga: Manga
    read: bool


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    total: int


# Aliased once: a fresh alias per statement costs milliseconds to adapt its columns.
_FIRST = aliased(StoredChapter, name="first_chapter")


def _new_chapters(user_id: uuid.UUID) -> Any:
    first_fetch = (
        select(func.min(_FIRST.first_seen_at))
        .where(_FIRST.source_id == StoredChapter.source_id)
        .scalar_subquery()
    )
    return (
        select(StoredChapter)
        .join(
            LibraryEntry,
            and_(LibraryEntry.manga_id == StoredChapter.manga_id, LibraryEntry.user_id == user_id),
        )
        .where(
            StoredChapter.removed_at.is_(None),
            StoredChapter.first_seen_at > LibraryEntry.created_at,
            StoredChapter.first_seen_at > first_fetch,
        )
    )


async def chapter_page(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    chapters: Any,
    order_by: Sequence[Any],
    page: int,
    limit: int,
) -> FeedPage:
    """One page of a selection of ``StoredChapter`` rows (``chapters``, a ``select``), each with
    its manga and whether ``user_id`` has read it, and how many the whole selection holds."""
    total = int(await db_session.scalar(select(func.count()).select_from(chapters.subquery())) or 0)
    rows = (
        await db_session.execute(
            chapters.add_columns(Manga, func.coalesce(ChapterProgress.read, False))
            .join(Manga, Manga.id == StoredChapter.manga_id)
            .outerjoin(
                ChapterProgress,
                and_(
                    ChapterProgress.chapter_id == StoredChapter.id,
                    ChapterProgress.user_id == user_id,
                ),
            )
            .order_by(*order_by)
            .offset((page - 1) * limit)
            .limit(limit)
        )
    ).all()
    items = [FeedItem(chapter=row[0], manga=row[1], read=bool(row[2])) for row in rows]
    return FeedPage(items=items, total=total)


async def list_new_chapters(
    *, db_session: AsyncSession, user_id: uuid.UUID, page: int, limit: int
) -> FeedPage:
    """One page of the user's new chapters, newest first, each with its manga and read flag."""
    return await chapter_page(
        db_session=db_session,
        user_id=user_id,
        chapters=_new_chapters(user_id),
        order_by=(
            StoredChapter.first_seen_at.desc(),
            StoredChapter.manga_id,
            StoredChapter.position.desc(),
        ),
        page=page,
        limit=limit,
    )
