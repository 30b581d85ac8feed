"""Per-user reading progress: a chapter's last page and read mark, marking many at once, the
history of what was read, and the per-manga summaries library lists show (unread count, last
read, where "Continue" goes) computed for a whole page of entries in two queries.

Errors a caller maps::

    ChapterNotFound     (from reading.listing) no chapter with that id
    MangaNotFound       (from manga.service) no manga with that id
    ChaptersRefused     ids that are not chapters of the manga (``chapter_ids``); nothing changed
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from kurobara.manga.models import Manga
from kurobara.manga.service import MangaNotFound
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.monitoring.history import dialect_insert
from kurobara.reading import rules
from kurobara.reading.listing import ChapterNotFound
from kurobara.reading.models import ChapterProgress, StoredChapter

CP = ChapterProgress
SC = StoredChapter
# The other chapter of the correlated subqueries below, aliased once: a fresh alias per
# statement costs ~2 ms of CPU to adapt its columns (a third of a list page's in a profile).
_READ = aliased(StoredChapter, name="read_chapter")
_SAME_NUMBER = aliased(StoredChapter, name="same_number")

# Rows per upsert when marking many chapters (8 columns a row, under SQLite's limit).
_UPSERT_CHUNK = 500


class ChaptersRefused(LookupError):
    def __init__(self, manga_id: uuid.UUID, chapter_ids: Sequence[uuid.UUID]) -> None:
        super().__init__(f"not chapters of manga {manga_id}: {', '.join(map(str, chapter_ids))}")
        self.manga_id = manga_id
        self.chapter_ids = list(chapter_ids)


async def set_progress(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    chapter_id: uuid.UUID,
    last_page: int | None = None,
    read: bool | None = None,
    clock: Clock | None = None,
) -> ChapterProgress:
    """Record the user's place in a chapter: ``last_page`` (1-based) and/or ``read``. Reaching
    the chapter's last page (when its page count is known) marks it read; ``read: false``
    without a page also forgets the page. A page or a read mark is reading, so it moves the
    chapter to the top of the history.

    One upsert whose update reads the stored row, so concurrent writes for one chapter leave
    one row and never lose a read mark set by another request."""
    now = (clock or SystemClock()).now()
    chapter = await db_session.get(StoredChapter, chapter_id)
    if chapter is None:
        raise ChapterNotFound(str(chapter_id))
    reached = rules.reached_end(last_page, chapter.page_count)
    reading_now = last_page is not None or read is True
    insert = dialect_insert(db_session, CP.__table__).values(
        id=uuid.uuid4(),
        user_id=user_id,
        chapter_id=chapter_id,
        manga_id=chapter.manga_id,
        last_page=last_page,
        read=read if read is not None else reached,
        read_at=now if reading_now else None,
        updated_at=now,
    )
    table = CP.__table__
    changes: dict[str, Any] = {"updated_at": insert.excluded.updated_at}
    if last_page is not None:
        changes["last_page"] = insert.excluded.last_page
    elif read is False:
        changes["last_page"] = None
    changes["read"] = (
        insert.excluded.read if read is not None else or_(table.c.read, literal(reached))
    )
    if reading_now:
        changes["read_at"] = insert.excluded.read_at
    await db_session.execute(
        insert.on_conflict_do_update(index_elements=["user_id", "chapter_id"], set_=changes)
    )
    await db_session.commit()
    row = await db_session.scalar(
        select(CP)
        .where(CP.user_id == user_id, CP.chapter_id == chapter_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


@dataclass(frozen=True)
class Marked:
    manga_id: uuid.UUID
    read: bool
    chapter_ids: list[uuid.UUID]


async def mark_chapters(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    manga_id: uuid.UUID,
    read: bool = True,
    chapter_ids: Sequence[uuid.UUID] = (),
    up_to: uuid.UUID | None = None,
    clock: Clock | None = None,
) -> Marked:
    """Mark chapters of one manga read (or unread): the ones listed, or ``up_to`` one and every
    chapter before it in its source's list. All or nothing: an id that is not a chapter of this
    manga refuses the whole request. Marking is idempotent; unread forgets the page. Marks are
    not reading, so the history is left alone."""
    now = (clock or SystemClock()).now()
    if await db_session.get(Manga, manga_id) is None:
        raise MangaNotFound(manga_id)
    if up_to is not None:
        ids = await _up_to(db_session, manga_id, up_to)
        read = True
    else:
        ids = list(dict.fromkeys(chapter_ids))
        found = set(
            (
                await db_session.scalars(
                    select(SC.id).where(SC.manga_id == manga_id, SC.id.in_(ids))
                )
            ).all()
        )
        missing = [chapter_id for chapter_id in ids if chapter_id not in found]
        if missing:
            raise ChaptersRefused(manga_id, missing)
    try:
        for start in range(0, len(ids), _UPSERT_CHUNK):
            await _upsert_marks(
                db_session, user_id, manga_id, ids[start : start + _UPSERT_CHUNK], read, now
            )
        await db_session.commit()
    except BaseException:
        await db_session.rollback()
        raise
    return Marked(manga_id=manga_id, read=read, chapter_ids=ids)


async def _up_to(
    db_session: AsyncSession, manga_id: uuid.UUID, up_to: uuid.UUID
) -> list[uuid.UUID]:
    target = await db_session.get(StoredChapter, up_to)
    if target is None or target.manga_id != manga_id:
        raise ChaptersRefused(manga_id, [up_to])
    earlier = await db_session.scalars(
        select(SC.id)
        .where(
            SC.source_id == target.source_id,
            SC.position <= target.position,
            SC.removed_at.is_(None) | (SC.id == target.id),
        )
        .order_by(SC.position)
    )
    return list(earlier.all())


async def _upsert_marks(
    db_session: AsyncSession,
    user_id: uuid.UUID,
    manga_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
    read: bool,
    now: datetime,
) -> None:
    if not ids:
        return
    insert = dialect_insert(db_session, CP.__table__).values(
        [
            {
                "id": uuid.uuid4(),
                "user_id": user_id,
                "chapter_id": chapter_id,
                "manga_id": manga_id,
                "last_page": None,
                "read": read,
                "read_at": None,
                "updated_at": now,
            }
            for chapter_id in ids
        ]
    )
    changes: dict[str, Any] = {
        "read": insert.excluded.read,
        "updated_at": insert.excluded.updated_at,
    }
    if not read:
        changes["last_page"] = None
    await db_session.execute(
        insert.on_conflict_do_update(index_elements=["user_id", "chapter_id"], set_=changes)
    )


# -- history ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryItem:
    progress: ChapterProgress
    chapter: StoredChapter
    manga: Manga


@dataclass(frozen=True)
class HistoryPage:
    items: list[HistoryItem]
    total: int


async def history(
    *, db_session: AsyncSession, user_id: uuid.UUID, page: int = 1, limit: int = 20
) -> HistoryPage:
    """The chapters the user read in, most recent first, with their chapter and manga."""
    read_in = (CP.user_id == user_id, CP.read_at.is_not(None))
    total = await db_session.scalar(select(func.count()).select_from(CP).where(*read_in)) or 0
    rows = (
        await db_session.execute(
            select(CP, SC, Manga)
            .join(SC, SC.id == CP.chapter_id)
            .join(Manga, Manga.id == CP.manga_id)
            .where(*read_in)
            .order_by(CP.read_at.desc(), CP.id.desc())
            .limit(limit)
            .offset((page - 1) * limit)
        )
    ).all()
    return HistoryPage(
        items=[HistoryItem(progress=p, chapter=c, manga=m) for p, c, m in rows], total=total
    )


async def clear_history(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID | None = None
) -> int:
    """Forget when the user read what (all of it, or one manga's); read marks and pages stay,
    so clearing the history never makes chapters unread. The number of chapters cleared."""
    conditions: list[ColumnElement[bool]] = [CP.user_id == user_id, CP.read_at.is_not(None)]
    if manga_id is not None:
        conditions.append(CP.manga_id == manga_id)
    result = await db_session.execute(update(CP).where(*conditions).values(read_at=None))
    await db_session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


# -- library summaries -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReadingSummary:
    unread_count: int = 0
    last_read_at: datetime | None = None
    next_chapter_id: uuid.UUID | None = None


def last_read_at_of(user_id: Any, manga_id: Any) -> Any:
    """When the user last read in the manga, as a correlated expression (for sorting)."""
    return (
        select(func.max(CP.read_at))
        .where(CP.user_id == user_id, CP.manga_id == manga_id)
        .scalar_subquery()
    )


def _read_by_number(user_id: Any) -> ColumnElement[bool]:
    """Whether the user read the chapter ``SC`` — or the chapter of its number on another
    linked source of the manga (read marks count by number, docs/failover.md)."""
    same = or_(
        _READ.id == SC.id,
        and_(_READ.number == SC.number, _READ.source_id != SC.source_id),
    )
    return exists().where(
        CP.user_id == user_id,
        CP.manga_id == SC.manga_id,
        CP.read.is_(True),
        _READ.id == CP.chapter_id,
        same,
    )


def _first_of_its_number() -> ColumnElement[bool]:
    """``SC`` is the one listed chapter counted for its number: with several sources, the
    chapter of the same number on another source with a lower id stands for it."""
    return ~exists().where(
        _SAME_NUMBER.manga_id == SC.manga_id,
        _SAME_NUMBER.number == SC.number,
        _SAME_NUMBER.source_id != SC.source_id,
        _SAME_NUMBER.removed_at.is_(None),
        _SAME_NUMBER.source_id < SC.source_id,
    )


def has_unread_of(user_id: Any, manga_id: Any) -> ColumnElement[bool]:
    """Whether the manga has a listed chapter the user has not read (for filtering)."""
    return exists().where(
        SC.manga_id == manga_id,
        SC.removed_at.is_(None),
        ~_read_by_number(user_id),
        _first_of_its_number(),
    )


async def summaries(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ReadingSummary]:
    """For each manga: unread chapters still listed, when the user last read in it, and where
    "Continue" goes. Two queries for any number of manga (a list page), none per manga."""
    ids = list(set(manga_ids))
    if not ids:
        return {}
    latest = (
        select(
            CP.manga_id,
            CP.chapter_id,
            CP.read,
            CP.read_at,
            SC.position,
            func.row_number()
            .over(partition_by=CP.manga_id, order_by=(CP.read_at.desc(), CP.id.desc()))
            .label("rn"),
        )
        .join(SC, SC.id == CP.chapter_id)
        .where(CP.user_id == user_id, CP.manga_id.in_(ids), CP.read_at.is_not(None))
        .subquery()
    )
    last = (await db_session.execute(select(latest).where(latest.c.rn == 1))).all()
    by_manga = {row.manga_id: row for row in last}
    read = _read_by_number(user_id)
    # The position of the chapter read in last, per manga, as bound values: cheaper than
    # joining the window above a second time.
    last_position: Any = (
        case(
            {manga_id: row.position for manga_id, row in by_manga.items()},
            value=SC.manga_id,
            else_=-1,
        )
        if by_manga
        else literal(-1)
    )
    after_last = case((SC.position > last_position, 0), else_=1)
    unread = (
        select(
            SC.manga_id,
            SC.id,
            func.count().over(partition_by=SC.manga_id).label("unread"),
            func.row_number()
            .over(partition_by=SC.manga_id, order_by=(after_last, SC.position, SC.id))
            .label("rn"),
        )
        .where(SC.manga_id.in_(ids), SC.removed_at.is_(None), ~read, _first_of_its_number())
        .subquery()
    )
    first_unread = {
        row.manga_id: row
        for row in (await db_session.execute(select(unread).where(unread.c.rn == 1))).all()
    }
    result: dict[uuid.UUID, ReadingSummary] = {}
    for manga_id in ids:
        mine, first = by_manga.get(manga_id), first_unread.get(manga_id)
        result[manga_id] = ReadingSummary(
            unread_count=first.unread if first is not None else 0,
            last_read_at=mine.read_at if mine is not None else None,
            next_chapter_id=rules.continue_target(
                latest_id=mine.chapter_id if mine is not None else None,
                latest_read=bool(mine.read) if mine is not None else True,
                first_unread_id=first.id if first is not None else None,
            ),
        )
    return result
