"""Library and favorites logic. Every function is scoped to one user; writes are upserts on the
unique ``(user_id, manga_id)`` so concurrent requests can never create duplicates.

Errors (routes map them to HTTP):
    LibraryError
      MangaNotFound   one or more manga ids do not exist (carries ``manga_ids``)
      EntryNotFound   the manga exists but is not in the user's library
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, case, delete, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from kurobara.db.types import UTCDateTime, utcnow
from kurobara.library.models import LibraryEntry
from kurobara.library.rules import LIKE_ESCAPE, like_pattern, unique_ids
from kurobara.library.schemas import SortBy, SortOrder
from kurobara.manga.models import Manga
from kurobara.reading import progress as reading_progress
from kurobara.reading.progress import ReadingSummary

logger = logging.getLogger(__name__)

ENTRY_FIELDS = frozenset({"is_favorite", "custom_title", "rating", "notes"})
SORT_COLUMNS: dict[str, Any] = {
    "updated_at": LibraryEntry.updated_at,
    "created_at": LibraryEntry.created_at,
    "title": Manga.title_key,
    "rating": LibraryEntry.rating,
    # When the user last read in the manga (a correlated subquery on their progress rows).
    "last_read_at": reading_progress.last_read_at_of(LibraryEntry.user_id, LibraryEntry.manga_id),
}


class LibraryError(Exception):
    kind = "library_error"


class MangaNotFound(LibraryError):
    kind = "manga_not_found"

    def __init__(self, manga_ids: Sequence[uuid.UUID]) -> None:
        super().__init__(f"unknown manga: {', '.join(str(i) for i in manga_ids)}")
        self.manga_ids = list(manga_ids)


class EntryNotFound(LibraryError):
    kind = "entry_not_found"


@dataclass(frozen=True)
class Page:
    items: list[LibraryEntry]
    total: int
    # Per manga of ``items``: unread count, last read, where "Continue" goes.
    reading: dict[uuid.UUID, ReadingSummary] = field(default_factory=dict)


def _insert(db_session: AsyncSession) -> Any:
    """The dialect's ``insert`` (both have ``on_conflict_do_update``)."""
    dialect = db_session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def with_manga(query: Select[Any], *, sources: bool = False) -> Select[Any]:
    """Join each entry to its manga; the manga's sources (loaded eagerly by default) only when
    asked for, so a list page costs no extra query."""
    manga = contains_eager(LibraryEntry.manga)
    manga = manga.selectinload(Manga.sources) if sources else manga.raiseload(Manga.sources)
    return query.join(LibraryEntry.manga).options(manga).execution_options(populate_existing=True)


async def upsert_entries(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    manga_ids: Sequence[uuid.UUID],
    changes: dict[str, Any],
    per_manga: Mapping[uuid.UUID, dict[str, Any]] | None = None,
    fill_blanks: bool = False,
) -> None:
    """Create or update the user's entries for ``manga_ids`` in one statement (not committed).

    Only the fields named in ``changes`` are written to existing entries; ``per_manga`` gives
    some of them a different value per manga. With ``fill_blanks`` the text fields and rating
    only fill values the user has not set (import). Favoriting an entry that is already a
    favorite keeps its ``favorited_at``."""
    now = utcnow()
    table = LibraryEntry.__table__
    favorite = bool(changes.get("is_favorite", False))
    rows = [
        {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "manga_id": manga_id,
            "created_at": now,
            "updated_at": now,
            **changes,
            **(per_manga or {}).get(manga_id, {}),
            "is_favorite": favorite,
            "favorited_at": now if favorite else None,
        }
        for manga_id in manga_ids
    ]
    stmt = _insert(db_session)(table).values(rows)
    excluded = stmt.excluded
    set_: dict[str, Any] = {"updated_at": excluded.updated_at}
    for name in changes.keys() - {"is_favorite"}:
        column = table.c[name]
        set_[name] = func.coalesce(column, excluded[name]) if fill_blanks else excluded[name]
    if "is_favorite" in changes:
        set_["is_favorite"] = excluded.is_favorite
        set_["favorited_at"] = (
            case((table.c.is_favorite, table.c.favorited_at), else_=excluded.favorited_at)
            if favorite
            else None
        )
    stmt = stmt.on_conflict_do_update(index_elements=["user_id", "manga_id"], set_=set_)
    try:
        await db_session.execute(stmt)
    except IntegrityError as exc:
        # The foreign key caught a manga deleted since it was checked (or never existing).
        await db_session.rollback()
        raise MangaNotFound(manga_ids) from exc


async def require_manga(*, db_session: AsyncSession, manga_ids: Iterable[uuid.UUID]) -> None:
    """Raise ``MangaNotFound`` listing every id that is not in the catalog."""
    ids = list(manga_ids)
    found = set((await db_session.scalars(select(Manga.id).where(Manga.id.in_(ids)))).all())
    if missing := [manga_id for manga_id in ids if manga_id not in found]:
        raise MangaNotFound(missing)


async def get_entry(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID
) -> LibraryEntry | None:
    query = with_manga(select(LibraryEntry)).where(
        LibraryEntry.user_id == user_id, LibraryEntry.manga_id == manga_id
    )
    entry: LibraryEntry | None = await db_session.scalar(query)
    return entry


async def add_entry(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID, changes: dict[str, Any]
) -> LibraryEntry:
    """Put a manga into the library (or update it there): idempotent."""
    await require_manga(db_session=db_session, manga_ids=[manga_id])
    await upsert_entries(
        db_session=db_session, user_id=user_id, manga_ids=[manga_id], changes=changes
    )
    await db_session.commit()
    entry = await get_entry(db_session=db_session, user_id=user_id, manga_id=manga_id)
    assert entry is not None
    return entry


async def update_entry(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID, changes: dict[str, Any]
) -> LibraryEntry:
    """Edit an entry already in the library; ``EntryNotFound`` when it is not there."""
    await require_manga(db_session=db_session, manga_ids=[manga_id])
    values = {name: value for name, value in changes.items() if name in ENTRY_FIELDS}
    now = utcnow()
    if "is_favorite" in values:
        values["favorited_at"] = (
            case(
                (LibraryEntry.is_favorite == True, LibraryEntry.favorited_at),  # noqa: E712
                else_=literal(now, UTCDateTime()),
            )
            if values["is_favorite"]
            else None
        )
    result = await db_session.execute(
        update(LibraryEntry)
        .where(LibraryEntry.user_id == user_id, LibraryEntry.manga_id == manga_id)
        .values(**values, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await db_session.commit()
    if not result.rowcount:  # type: ignore[attr-defined]
        raise EntryNotFound("this manga is not in your library")
    entry = await get_entry(db_session=db_session, user_id=user_id, manga_id=manga_id)
    assert entry is not None
    return entry


async def remove_entry(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID
) -> None:
    """Take a manga out of the library (notes, rating and favorite go with it): idempotent."""
    await require_manga(db_session=db_session, manga_ids=[manga_id])
    await db_session.execute(
        delete(LibraryEntry).where(
            LibraryEntry.user_id == user_id, LibraryEntry.manga_id == manga_id
        )
    )
    await db_session.commit()


async def favorite(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID
) -> LibraryEntry:
    entry = await add_entry(
        db_session=db_session, user_id=user_id, manga_id=manga_id, changes={"is_favorite": True}
    )
    logger.info("favorites user=%s is_favorite=True manga=%s", user_id, manga_id)
    return entry


async def unfavorite(*, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID) -> None:
    """Clear the flag and keep the entry (notes, rating); nothing to do when there is none."""
    await bulk_set_favorite(
        db_session=db_session, user_id=user_id, manga_ids=[manga_id], is_favorite=False
    )


async def favorite_status(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID
) -> bool:
    """Whether the user favorited the manga, checked with its existence in one query."""
    row = (
        await db_session.execute(
            select(Manga.id, LibraryEntry.is_favorite)
            .outerjoin(
                LibraryEntry,
                (LibraryEntry.manga_id == Manga.id) & (LibraryEntry.user_id == user_id),
            )
            .where(Manga.id == manga_id)
        )
    ).first()
    if row is None:
        raise MangaNotFound([manga_id])
    return bool(row.is_favorite)


async def count_favorites(*, db_session: AsyncSession, user_id: uuid.UUID) -> int:
    query = select(func.count()).where(
        LibraryEntry.user_id == user_id,
        LibraryEntry.is_favorite == True,  # noqa: E712
    )
    return await db_session.scalar(query) or 0


async def bulk_set_favorite(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    manga_ids: Sequence[uuid.UUID],
    is_favorite: bool,
) -> int:
    """Favorite or unfavorite many manga in one statement, all or nothing: any unknown id raises
    ``MangaNotFound`` listing all of them before anything is written. Returns the number of
    entries written (unfavoriting a manga that is not in the library writes nothing)."""
    ids = unique_ids(manga_ids)
    await require_manga(db_session=db_session, manga_ids=ids)
    if is_favorite:
        await upsert_entries(
            db_session=db_session, user_id=user_id, manga_ids=ids, changes={"is_favorite": True}
        )
        written = len(ids)
    else:
        result = await db_session.execute(
            update(LibraryEntry)
            .where(LibraryEntry.user_id == user_id, LibraryEntry.manga_id.in_(ids))
            .values(is_favorite=False, favorited_at=None, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        written = result.rowcount  # type: ignore[attr-defined]
    await db_session.commit()
    logger.info(
        "favorites user=%s is_favorite=%s manga=%d written=%d",
        user_id,
        is_favorite,
        len(ids),
        written,
    )
    return written


def _filters(
    user_id: uuid.UUID, is_favorite: bool | None, search: str | None, has_unread: bool | None = None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [LibraryEntry.user_id == user_id]
    if is_favorite is not None:
        # A bound value (not IS TRUE) so both planners match the (user_id, is_favorite, ...) index.
        conditions.append(LibraryEntry.is_favorite == is_favorite)
    if search:
        conditions.append(Manga.title_key.like(like_pattern(search), escape=LIKE_ESCAPE))
    if has_unread is not None:
        unread = reading_progress.has_unread_of(LibraryEntry.user_id, LibraryEntry.manga_id)
        conditions.append(unread if has_unread else ~unread)
    return conditions


async def list_entries(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    is_favorite: bool | None = None,
    search: str | None = None,
    sort_by: SortBy = "updated_at",
    sort_order: SortOrder = "desc",
    page: int = 1,
    limit: int = 20,
    has_unread: bool | None = None,
    with_reading: bool = True,
) -> Page:
    """One page of the user's entries with their manga, and the total that match; with the
    reading summary of each (``with_reading``: two more queries for the whole page).

    Ties in the sort key are broken by id, so offsets are stable. The page's ids are picked in a
    subquery from the index alone; only those rows are joined to their manga, so a deep page
    does not load the manga of every row it skips."""
    conditions = _filters(user_id, is_favorite, search, has_unread)
    needs_manga = bool(search) or sort_by == "title"
    order = _order(sort_by, sort_order)
    page_ids = select(LibraryEntry.id)
    count_query = select(func.count()).select_from(LibraryEntry)
    if needs_manga:
        page_ids = page_ids.join(Manga, Manga.id == LibraryEntry.manga_id)
        count_query = count_query.join(Manga, Manga.id == LibraryEntry.manga_id)
    page_ids_sq = (
        page_ids.where(*conditions)
        .order_by(*order)
        .limit(limit)
        .offset((page - 1) * limit)
        .subquery()
    )
    total = await db_session.scalar(count_query.where(*conditions)) or 0
    if total <= (page - 1) * limit:
        return Page(items=[], total=total)
    query = (
        with_manga(select(LibraryEntry))
        .join(page_ids_sq, page_ids_sq.c.id == LibraryEntry.id)
        .order_by(*order)
    )
    items = list((await db_session.scalars(query)).all())
    summaries = (
        await reading_summaries(db_session=db_session, user_id=user_id, entries=items)
        if with_reading
        else {}
    )
    return Page(items=items, total=total, reading=summaries)


async def reading_summaries(
    *, db_session: AsyncSession, user_id: uuid.UUID, entries: Sequence[LibraryEntry]
) -> dict[uuid.UUID, ReadingSummary]:
    """The reading summary of each entry's manga, by manga id (``kurobara.reading``)."""
    return await reading_progress.summaries(
        db_session=db_session, user_id=user_id, manga_ids=[entry.manga_id for entry in entries]
    )


def _order(sort_by: SortBy, sort_order: SortOrder) -> list[Any]:
    """The sort key, then id in the same direction (so an index on (..., key, id) serves it)."""
    column = SORT_COLUMNS[sort_by]
    if sort_order == "desc":
        key, tiebreak = column.desc(), LibraryEntry.id.desc()
    else:
        key, tiebreak = column.asc(), LibraryEntry.id.asc()
    if sort_by in ("rating", "last_read_at"):
        key = key.nulls_last()  # unrated last in both orders, on SQLite and PostgreSQL alike
    return [key, tiebreak]
