"""Library and favorites logic. Every function is scoped to one user; writes are upserts on the
unique ``(user_id, manga_id)`` so concurrent requests can never create duplicates.

Errors (routes map them to HTTP):
    LibraryError
      MangaNotFound   one or more manga ids do not exist (carries ``manga_ids``)
      EntryNotFound   the manga exists but is not in the user's library
    CategoryNotFound  (``categories/links.py``) a category id that is not the user's
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Uuid,
    bindparam,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager, selectinload

from kurobara.categories import links as category_links
from kurobara.categories.models import entry_categories
from kurobara.categories.schemas import AssignMode
from kurobara.db.types import UTCDateTime, utcnow
from kurobara.library.models import LibraryCounter, LibraryEntry
from kurobara.library.rules import LIKE_ESCAPE, like_pattern, unique_ids
from kurobara.library.schemas import SortBy, SortOrder
from kurobara.manga.models import Manga
from kurobara.reading import progress as reading_progress
from kurobara.reading.progress import ReadingSummary

logger = logging.getLogger(__name__)
T = TypeVar("T")

# PostgreSQL's "serialization failure" and "deadlock detected": the transaction was chosen as the
# victim and rolled back; running it again is safe and almost always succeeds.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})

ENTRY_FIELDS = frozenset({"is_favorite", "custom_title", "rating", "notes"})
SORT_COLUMNS: dict[str, Any] = {
    "updated_at": LibraryEntry.updated_at,
    "created_at": LibraryEntry.created_at,
    # What the user sees: their custom title, else the manga's.
    "title": func.coalesce(LibraryEntry.custom_title_key, Manga.title_key),
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
    return (
        query.join(LibraryEntry.manga)
        .options(manga, selectinload(LibraryEntry.categories))
        .execution_options(populate_existing=True)
    )


def title_key(title: str | None) -> str | None:
    """The search and sort key of a custom title (the rule ``Manga.title_key`` follows)."""
    return title.lower() if title is not None else None


def _with_title_key(values: dict[str, Any]) -> dict[str, Any]:
    if "custom_title" in values:
        return {**values, "custom_title_key": title_key(values["custom_title"])}
    return values


# The statements of the favorite toggle, a reader's most frequent write, are built once (as
# ``_STATUS`` is) with bound parameters; their names cannot be column names in an INSERT or
# UPDATE, and their types are given (a foreign key column has no type of its own until the
# tables it points to are imported). Core statements: nothing of the ORM is needed to write a row.
_USER = bindparam("p_user", type_=Uuid())
_MANGA = bindparam("p_manga", type_=Uuid())
_NOW = bindparam("p_now", type_=UTCDateTime())
_ENTRIES: Table = LibraryEntry.__table__  # type: ignore[assignment]
_COUNTERS: Table = LibraryCounter.__table__  # type: ignore[assignment]
_LOCK_COUNTER = (
    postgresql.insert(_COUNTERS)
    .values(user_id=_USER, entries=0, favorites=0)
    .on_conflict_do_update(index_elements=["user_id"], set_={"entries": _COUNTERS.c.entries})
)
_ENTRY = with_manga(select(LibraryEntry)).where(
    LibraryEntry.user_id == bindparam("user_id", type_=Uuid()),
    LibraryEntry.manga_id == bindparam("manga_id", type_=Uuid()),
)
_UNFAVORITE = (
    update(_ENTRIES)
    .where(_ENTRIES.c.user_id == _USER, _ENTRIES.c.manga_id == _MANGA)
    .values(is_favorite=False, favorited_at=None, updated_at=_NOW)
)


def _favorite_set(excluded: Any, favorite: bool) -> dict[str, Any]:
    """The ``ON CONFLICT`` update of the flag: favoriting an entry that is already a favorite
    keeps its ``favorited_at``; unfavoriting clears it."""
    table = _ENTRIES
    kept = case((table.c.is_favorite, table.c.favorited_at), else_=excluded.favorited_at)
    return {"is_favorite": excluded.is_favorite, "favorited_at": kept if favorite else None}


@functools.cache
def _favorite_upsert(insert: Callable[[Table], Any]) -> Any:
    """``upsert_entries`` of one manga with ``{"is_favorite": True}``, for the dialect's
    ``insert`` (``_insert``)."""
    stmt = insert(_ENTRIES).values(
        id=bindparam("p_id", type_=Uuid()),
        user_id=_USER,
        manga_id=_MANGA,
        created_at=_NOW,
        updated_at=_NOW,
        is_favorite=True,
        favorited_at=_NOW,
    )
    set_ = {"updated_at": stmt.excluded.updated_at, **_favorite_set(stmt.excluded, True)}
    return stmt.on_conflict_do_update(index_elements=["user_id", "manga_id"], set_=set_)


async def lock_counter(db_session: AsyncSession, user_id: uuid.UUID) -> None:
    """Take the user's counter row first in every write (PostgreSQL; SQLite locks the whole
    database on its first write). The counter triggers update it after each entry row, so a
    transaction taking it last would lock entries, then the counter, while another holding the
    counter waits for those entries: a deadlock. Taken first, it queues a user's writes."""
    if db_session.get_bind().dialect.name == "postgresql":
        await db_session.execute(_LOCK_COUNTER, {"p_user": user_id})


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
    # Rows in id order: two upserts of overlapping sets then lock their rows in the same order
    # and cannot deadlock (two browser tabs sending the same ids forward and reversed).
    rows = [
        {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "manga_id": manga_id,
            "created_at": now,
            "updated_at": now,
            **_with_title_key({**changes, **(per_manga or {}).get(manga_id, {})}),
            "is_favorite": favorite,
            "favorited_at": now if favorite else None,
        }
        for manga_id in sorted(manga_ids)
    ]
    stmt = _insert(db_session)(table).values(rows)
    excluded = stmt.excluded
    set_: dict[str, Any] = {"updated_at": excluded.updated_at}
    for name in _with_title_key(changes).keys() - {"is_favorite"}:
        column = table.c[name]
        set_[name] = func.coalesce(column, excluded[name]) if fill_blanks else excluded[name]
    if "is_favorite" in changes:
        set_.update(_favorite_set(excluded, favorite))
    stmt = stmt.on_conflict_do_update(index_elements=["user_id", "manga_id"], set_=set_)
    await _upsert(db_session, user_id, manga_ids, stmt)


async def _upsert(
    db_session: AsyncSession,
    user_id: uuid.UUID,
    manga_ids: Sequence[uuid.UUID],
    stmt: Any,
    params: dict[str, Any] | None = None,
) -> None:
    """Run an upsert of the user's entries for ``manga_ids`` after the counter lock."""
    try:
        await lock_counter(db_session, user_id)
        await db_session.execute(stmt, params)
    except IntegrityError:
        # The foreign key caught a manga deleted since it was checked (or never existing):
        # name exactly the ids that are gone, never one that exists.
        await db_session.rollback()
        await require_manga(db_session=db_session, manga_ids=manga_ids)
        raise


async def require_manga(*, db_session: AsyncSession, manga_ids: Iterable[uuid.UUID]) -> None:
    """Raise ``MangaNotFound`` listing every id that is not in the catalog."""
    ids = list(manga_ids)
    found = set((await db_session.scalars(select(Manga.id).where(Manga.id.in_(ids)))).all())
    if missing := [manga_id for manga_id in ids if manga_id not in found]:
        raise MangaNotFound(missing)


def _retryable(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


async def retry_once(db_session: AsyncSession, write: Callable[[], Awaitable[T]]) -> T:
    """Run a write transaction; when the database rolls it back as a deadlock victim or a
    serialization failure, run it once more from the start."""
    try:
        return await write()
    except DBAPIError as exc:
        if not _retryable(exc):
            raise
        await db_session.rollback()
        logger.warning("library write retried after sqlstate=%s", exc.orig.sqlstate)  # type: ignore[union-attr]
        return await write()


async def get_entry(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID
) -> LibraryEntry | None:
    entry: LibraryEntry | None = await db_session.scalar(
        _ENTRY, {"user_id": user_id, "manga_id": manga_id}
    )
    return entry


async def add_entry(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID, changes: dict[str, Any]
) -> LibraryEntry:
    """Put a manga into the library (or update it there): idempotent. The entry is read back
    in the writing transaction, so a removal racing this request cannot make it vanish before
    the answer (the removal waits for the commit, then removes it)."""

    changes, category_ids = _split_categories(changes)

    async def write() -> LibraryEntry:
        await require_manga(db_session=db_session, manga_ids=[manga_id])
        await _require_categories(db_session, user_id, category_ids)
        await upsert_entries(
            db_session=db_session, user_id=user_id, manga_ids=[manga_id], changes=changes
        )
        if category_ids is not None:
            await _assign(db_session, user_id, [manga_id], category_ids, "move")
        entry = await get_entry(db_session=db_session, user_id=user_id, manga_id=manga_id)
        if entry is None:  # the manga itself went in between: cascade-deleted with it
            await db_session.rollback()
            raise MangaNotFound([manga_id])
        await db_session.commit()
        return entry

    return await retry_once(db_session, write)


async def update_entry(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID, changes: dict[str, Any]
) -> LibraryEntry:
    """Edit an entry already in the library; ``EntryNotFound`` when it is not there."""
    changes, category_ids = _split_categories(changes)
    await require_manga(db_session=db_session, manga_ids=[manga_id])
    await _require_categories(db_session, user_id, category_ids)
    values = _with_title_key(
        {name: value for name, value in changes.items() if name in ENTRY_FIELDS}
    )
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
    await lock_counter(db_session, user_id)
    result = await db_session.execute(
        update(LibraryEntry)
        .where(LibraryEntry.user_id == user_id, LibraryEntry.manga_id == manga_id)
        .values(**values, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    # Read back before committing: a removal racing this edit either went first (no row
    # updated: 404) or waits for this transaction (the answer shows the edited entry).
    entry = None
    if result.rowcount:  # type: ignore[attr-defined]
        if category_ids is not None:
            await _assign(db_session, user_id, [manga_id], category_ids, "move")
        entry = await get_entry(db_session=db_session, user_id=user_id, manga_id=manga_id)
    await db_session.commit()
    if entry is None:
        raise EntryNotFound("this manga is not in your library")
    return entry


def _split_categories(
    changes: dict[str, Any],
) -> tuple[dict[str, Any], list[uuid.UUID] | None]:
    """The entry's own fields, and the categories to put it on (``None``: leave them)."""
    if "category_ids" not in changes:
        return changes, None
    rest = {name: value for name, value in changes.items() if name != "category_ids"}
    return rest, list(changes["category_ids"] or [])


async def _require_categories(
    db_session: AsyncSession, user_id: uuid.UUID, category_ids: Sequence[uuid.UUID] | None
) -> None:
    if category_ids:
        await category_links.require_categories(
            db_session=db_session, user_id=user_id, category_ids=category_ids
        )


async def _assign(
    db_session: AsyncSession,
    user_id: uuid.UUID,
    manga_ids: Sequence[uuid.UUID],
    category_ids: Sequence[uuid.UUID],
    mode: AssignMode,
) -> list[uuid.UUID]:
    """Put the user's entries of ``manga_ids`` on categories; returns the manga ids that have
    no entry (nothing is assigned for them)."""
    rows = await db_session.execute(
        select(LibraryEntry.id, LibraryEntry.manga_id).where(
            LibraryEntry.user_id == user_id, LibraryEntry.manga_id.in_(manga_ids)
        )
    )
    entry_of = {row.manga_id: row.id for row in rows}
    await category_links.assign(
        db_session=db_session,
        entry_ids=list(entry_of.values()),
        category_ids=category_ids,
        mode=mode,
    )
    return [manga_id for manga_id in manga_ids if manga_id not in entry_of]


async def bulk_assign_categories(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    manga_ids: Sequence[uuid.UUID],
    category_ids: Sequence[uuid.UUID],
    mode: AssignMode,
) -> int:
    """Put many entries on categories at once, all or nothing: an unknown manga, one not in
    the library (``EntryNotFound`` naming them) or a category not the user's changes nothing."""
    ids = unique_ids(manga_ids)
    await require_manga(db_session=db_session, manga_ids=ids)
    await _require_categories(db_session, user_id, category_ids)
    await lock_counter(db_session, user_id)
    missing = await _assign(db_session, user_id, ids, category_ids, mode)
    if missing:
        await db_session.rollback()
        raise EntryNotFound(
            "not in your library: " + ", ".join(str(manga_id) for manga_id in missing)
        )
    await db_session.commit()
    logger.info("categories user=%s mode=%s manga=%d", user_id, mode, len(ids))
    return len(ids)


async def remove_entry(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID
) -> None:
    """Take a manga out of the library (notes, rating and favorite go with it): idempotent."""
    await require_manga(db_session=db_session, manga_ids=[manga_id])
    await lock_counter(db_session, user_id)
    await db_session.execute(
        delete(LibraryEntry).where(
            LibraryEntry.user_id == user_id, LibraryEntry.manga_id == manga_id
        )
    )
    await db_session.commit()


async def favorite(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID
) -> LibraryEntry:
    """Favorite one manga (idempotent), read back in the writing transaction. The manga is not
    looked up first: the upsert's foreign key refuses an unknown one (``_upsert`` then names
    it), so a favorite costs the counter lock, the upsert and the read-back."""

    upsert = _favorite_upsert(_insert(db_session))

    async def write() -> LibraryEntry:
        params = {"p_id": uuid.uuid4(), "p_user": user_id, "p_manga": manga_id, "p_now": utcnow()}
        await _upsert(db_session, user_id, [manga_id], upsert, params)
        entry = await get_entry(db_session=db_session, user_id=user_id, manga_id=manga_id)
        if entry is None:  # the foreign key holds the manga: only a broken schema gets here
            await db_session.rollback()
            raise MangaNotFound([manga_id])
        await db_session.commit()
        return entry

    entry = await retry_once(db_session, write)
    logger.debug("favorites user=%s is_favorite=True manga=%s", user_id, manga_id)
    return entry


async def unfavorite(*, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID) -> None:
    """Clear the flag and keep the entry (notes, rating); nothing to do when there is none.
    One row: the counter lock and the update; the manga is looked up only when no entry was
    updated (an unknown manga is a 404, a known one without an entry is not)."""

    async def write() -> int:
        await lock_counter(db_session, user_id)
        result = await db_session.execute(
            _UNFAVORITE, {"p_user": user_id, "p_manga": manga_id, "p_now": utcnow()}
        )
        written = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if not written:
            await require_manga(db_session=db_session, manga_ids=[manga_id])
        await db_session.commit()
        return written

    written = await retry_once(db_session, write)
    logger.debug(
        "favorites user=%s is_favorite=False manga=%s written=%d", user_id, manga_id, written
    )


# Built once: the reader's most frequent request, whose statement construction cost as much
# as its round trip (docs/benchmarks.md, "Route matching and remembered tokens").
_STATUS = (
    select(Manga.id, LibraryEntry.is_favorite)
    .outerjoin(
        LibraryEntry,
        (LibraryEntry.manga_id == Manga.id)
        & (LibraryEntry.user_id == bindparam("user_id", type_=Uuid())),
    )
    .where(Manga.id == bindparam("manga_id", type_=Uuid()))
)


async def favorite_status(
    *, db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID
) -> bool:
    """Whether the user favorited the manga, checked with its existence in one query."""
    found = await db_session.execute(_STATUS, {"user_id": user_id, "manga_id": manga_id})
    row = found.first()
    if row is None:
        raise MangaNotFound([manga_id])
    return bool(row.is_favorite)


async def count_favorites(*, db_session: AsyncSession, user_id: uuid.UUID) -> int:
    """One row read, however many favorites (the triggers of migration 0005 keep it exact)."""
    return await count_entries(db_session=db_session, user_id=user_id, is_favorite=True)


async def count_entries(
    *, db_session: AsyncSession, user_id: uuid.UUID, is_favorite: bool | None = None
) -> int:
    """The user's entries (all, favorites, or the others) from the per-user counter row."""
    row = (
        await db_session.execute(
            select(LibraryCounter.entries, LibraryCounter.favorites).where(
                LibraryCounter.user_id == user_id
            )
        )
    ).first()
    if row is None:
        return 0
    if is_favorite is None:
        return int(row.entries)
    return int(row.favorites if is_favorite else row.entries - row.favorites)


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

    async def write() -> int:
        await require_manga(db_session=db_session, manga_ids=ids)
        if is_favorite:
            await upsert_entries(
                db_session=db_session,
                user_id=user_id,
                manga_ids=ids,
                changes={"is_favorite": True},
            )
            written = len(ids)
        else:
            written = await _unfavorite_rows(db_session, user_id, ids)
        await db_session.commit()
        return written

    written = await retry_once(db_session, write)
    logger.info(
        "favorites user=%s is_favorite=%s manga=%d written=%d",
        user_id,
        is_favorite,
        len(ids),
        written,
    )
    return written


async def _unfavorite_rows(
    db_session: AsyncSession, user_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> int:
    """Clear the flag on the user's entries among ``ids``. The rows are locked first in id
    order (PostgreSQL; SQLite locks the whole database), the order upserts use, so overlapping
    bulk writes queue instead of deadlocking."""
    where = (LibraryEntry.user_id == user_id, LibraryEntry.manga_id.in_(ids))
    await lock_counter(db_session, user_id)
    if db_session.get_bind().dialect.name == "postgresql":
        await db_session.execute(
            select(LibraryEntry.id).where(*where).order_by(LibraryEntry.manga_id).with_for_update()
        )
    result = await db_session.execute(
        update(LibraryEntry)
        .where(*where)
        .values(is_favorite=False, favorited_at=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _filters(
    user_id: uuid.UUID,
    is_favorite: bool | None,
    search: str | None,
    has_unread: bool | None = None,
    category_id: uuid.UUID | None = None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [LibraryEntry.user_id == user_id]
    if is_favorite is not None:
        # A bound value (not IS TRUE) so both planners match the (user_id, is_favorite, ...) index.
        conditions.append(LibraryEntry.is_favorite == is_favorite)
    if search:
        # The custom title the user sees, and the manga's own (what they may remember).
        pattern = like_pattern(search)
        conditions.append(
            or_(
                Manga.title_key.like(pattern, escape=LIKE_ESCAPE),
                LibraryEntry.custom_title_key.like(pattern, escape=LIKE_ESCAPE),
            )
        )
    if category_id is not None:
        on_category = select(entry_categories.c.entry_id).where(
            entry_categories.c.category_id == category_id
        )
        conditions.append(LibraryEntry.id.in_(on_category))
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
    category_id: uuid.UUID | None = None,
    with_reading: bool = True,
) -> Page:
    """One page of the user's entries with their manga, and the total that match; with the
    reading summary of each (``with_reading``: two more queries for the whole page).

    Ties in the sort key are broken by id, so offsets are stable. The page's ids are picked in a
    subquery from the index alone; only those rows are joined to their manga, so a deep page
    does not load the manga of every row it skips."""
    conditions = _filters(user_id, is_favorite, search, has_unread, category_id)
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
    if search or has_unread is not None or category_id is not None:
        total = await db_session.scalar(count_query.where(*conditions)) or 0
    else:  # constant time, whatever the size of the library
        total = await count_entries(db_session=db_session, user_id=user_id, is_favorite=is_favorite)
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
