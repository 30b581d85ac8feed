"""Whole-library backup of one user: everything they keep (entries, favorites, categories,
ratings, notes, custom titles, read chapters) as one JSON file, and its import into this or
another instance, with a dry run that reports what would happen and writes nothing.

Manga are matched like a favorites import (by provider and external id, else by id); in a real
import the ones this instance lacks are fetched from their providers first, with no
transaction open. Read chapters are matched by provider and chapter id among the chapters this
instance has listed; the rest are counted, not lost silently. An import only adds: it never
unfavorites, never clears a field the user set here, never takes an entry off a category.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.categories import links as category_links
from kurobara.categories.models import Category
from kurobara.db.engine import Database
from kurobara.db.types import utcnow
from kurobara.library import fetching, service, transfer
from kurobara.library.models import LibraryEntry
from kurobara.library.schemas import (
    BackupCategory,
    BackupChapter,
    BackupEntry,
    BackupItemResult,
    BackupReport,
    BackupStatus,
    ExportSource,
    LibraryBackup,
)
from kurobara.monitoring.history import dialect_insert
from kurobara.providers.registry import ProviderRegistry
from kurobara.reading.models import ChapterProgress, StoredChapter

ChapterKey = tuple[str, str]


async def export_library(*, db_session: AsyncSession, user_id: uuid.UUID) -> LibraryBackup:
    categories = await db_session.scalars(
        select(Category).where(Category.user_id == user_id).order_by(Category.position)
    )
    entries = await db_session.scalars(
        service.with_manga(select(LibraryEntry), sources=True)
        .where(LibraryEntry.user_id == user_id)
        .order_by(LibraryEntry.created_at, LibraryEntry.id)
    )
    read = await _read_chapters(db_session, user_id)
    return LibraryBackup(
        exported_at=utcnow(),
        categories=[BackupCategory(name=c.name, position=c.position) for c in categories],
        entries=[_entry(entry, read.get(entry.manga_id, [])) for entry in entries],
    )


def _entry(entry: LibraryEntry, read: list[BackupChapter]) -> BackupEntry:
    sources = sorted(entry.manga.sources, key=lambda s: (s.created_at, s.id))
    return BackupEntry(
        manga_id=entry.manga_id,
        title=entry.manga.title,
        custom_title=entry.custom_title,
        rating=entry.rating,
        notes=entry.notes,
        sources=[
            ExportSource(provider_id=s.provider_id, external_id=s.external_id, url=s.url)
            for s in sources
        ],
        is_favorite=entry.is_favorite,
        favorited_at=entry.favorited_at,
        created_at=entry.created_at,
        categories=[c.name for c in entry.categories],
        read_chapters=read,
    )


async def _read_chapters(
    db_session: AsyncSession, user_id: uuid.UUID
) -> dict[uuid.UUID, list[BackupChapter]]:
    rows = await db_session.execute(
        select(ChapterProgress, StoredChapter)
        .join(StoredChapter, StoredChapter.id == ChapterProgress.chapter_id)
        .where(ChapterProgress.user_id == user_id)
        .order_by(StoredChapter.position)
    )
    by_manga: dict[uuid.UUID, list[BackupChapter]] = defaultdict(list)
    for progress, chapter in rows:
        by_manga[progress.manga_id].append(
            BackupChapter(
                provider_id=chapter.provider_id,
                external_id=chapter.external_id,
                number=chapter.number_text,
                read=progress.read,
                last_page=progress.last_page,
                read_at=progress.read_at,
            )
        )
    return by_manga


async def import_library(
    *,
    db_session: AsyncSession,
    db: Database,
    registry: ProviderRegistry,
    user_id: uuid.UUID,
    backup: LibraryBackup,
    dry_run: bool,
    per_provider: int,
) -> BackupReport:
    """Import a backup (or, with ``dry_run``, report what it would do)."""
    entries = backup.entries
    plan = await transfer.plan_import(db_session=db_session, items=entries)
    found, errors = dict(plan.found), dict(plan.errors)
    if not dry_run:
        fetched = await fetching.fetch_missing(
            db=db, registry=registry, items=plan.pending, per_provider=per_provider
        )
        found |= {i: f.manga_id for i, f in fetched.items() if f.manga_id}
        errors |= {i: f.error for i, f in fetched.items() if f.error}
    existing = await _entry_ids(db_session, user_id, found.values())
    results = _decide(entries, found, errors, set(existing), pending=set(plan.pending))
    have = {c.name: c.id for c in await _categories(db_session, user_id)}
    wanted = _category_names(backup)
    chapters = await _chapters(db_session, _chapter_keys(entries, found))
    marks = [
        (found[i], chapters[(c.provider_id, c.external_id)], c)
        for i, entry in enumerate(entries)
        if i in found
        for c in entry.read_chapters
        if (c.provider_id, c.external_id) in chapters
    ]
    all_marks = sum(len(e.read_chapters) for i, e in enumerate(entries) if i in found)
    report = BackupReport(
        dry_run=dry_run,
        categories_created=[n for n in wanted if n not in have],
        categories_existing=[n for n in wanted if n in have],
        imported=sum(r.status == "imported" for r in results),
        already_present=sum(r.status == "already_present" for r in results),
        needs_fetch=sum(r.status == "needs_fetch" for r in results),
        failed=sum(r.status == "failed" for r in results),
        read_chapters_marked=len(marks),
        read_chapters_unmatched=all_marks - len(marks),
        items=results,
    )
    if dry_run:
        await db_session.rollback()
        return report
    await service.lock_counter(db_session, user_id)
    have |= await _create_categories(db_session, user_id, report.categories_created, len(have))
    await _write_entries(db_session, user_id, entries, found)
    await _link_categories(db_session, user_id, entries, found, have)
    await _write_marks(db_session, user_id, marks)
    await db_session.commit()
    return report


def _decide(
    entries: Sequence[BackupEntry],
    found: dict[int, uuid.UUID],
    errors: dict[int, str],
    existing: set[uuid.UUID],
    pending: set[int],
) -> list[BackupItemResult]:
    results, seen = [], set(existing)
    for index, entry in enumerate(entries):
        manga_id, error = found.get(index), None
        status: BackupStatus
        if manga_id is None and index in pending and index not in errors:
            status = "needs_fetch"
        elif manga_id is None:
            status, error = "failed", errors.get(index) or "import failed"
        elif manga_id in seen:
            status = "already_present"
        else:
            status = "imported"
            seen.add(manga_id)
        results.append(
            BackupItemResult(
                index=index, title=entry.title, manga_id=manga_id, status=status, error=error
            )
        )
    return results


def _category_names(backup: LibraryBackup) -> list[str]:
    """Every category the backup names, in its tab order, then those only entries name."""
    ordered = [c.name for c in sorted(backup.categories, key=lambda c: c.position)]
    ordered += [name for entry in backup.entries for name in entry.categories]
    return list(dict.fromkeys(" ".join(name.split()) for name in ordered))


async def _categories(db_session: AsyncSession, user_id: uuid.UUID) -> list[Category]:
    rows = await db_session.scalars(select(Category).where(Category.user_id == user_id))
    return list(rows.all())


async def _create_categories(
    db_session: AsyncSession, user_id: uuid.UUID, names: Sequence[str], after: int
) -> dict[str, uuid.UUID]:
    made = [
        Category(user_id=user_id, name=name, position=after + i) for i, name in enumerate(names)
    ]
    db_session.add_all(made)
    await db_session.flush()
    return {c.name: c.id for c in made}


async def _entry_ids(
    db_session: AsyncSession, user_id: uuid.UUID, manga_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Manga id → the user's entry id, for those of ``manga_ids`` in the library."""
    found: dict[uuid.UUID, uuid.UUID] = {}
    for chunk in transfer._chunks(list(dict.fromkeys(manga_ids))):
        rows = await db_session.execute(
            select(LibraryEntry.manga_id, LibraryEntry.id).where(
                LibraryEntry.user_id == user_id, LibraryEntry.manga_id.in_(chunk)
            )
        )
        found.update({row.manga_id: row.id for row in rows})
    return found


async def _write_entries(
    db_session: AsyncSession,
    user_id: uuid.UUID,
    entries: Sequence[BackupEntry],
    found: dict[int, uuid.UUID],
) -> None:
    by_manga: dict[uuid.UUID, BackupEntry] = {}
    for index, manga_id in found.items():
        by_manga.setdefault(manga_id, entries[index])
    per_manga: dict[uuid.UUID, dict[str, Any]] = {
        manga_id: {
            "custom_title": e.custom_title,
            "rating": e.rating,
            "notes": e.notes,
            **({"created_at": e.created_at} if e.created_at else {}),
        }
        for manga_id, e in by_manga.items()
    }
    fields = {"custom_title": None, "rating": None, "notes": None}
    for favorite in (True, False):
        ids = [m for m, e in by_manga.items() if e.is_favorite is favorite]
        changes = {**fields, "is_favorite": True} if favorite else fields
        for chunk in transfer._chunks(ids):
            await service.upsert_entries(
                db_session=db_session,
                user_id=user_id,
                manga_ids=chunk,
                changes=changes,
                per_manga=per_manga,
                fill_blanks=True,
            )


async def _link_categories(
    db_session: AsyncSession,
    user_id: uuid.UUID,
    entries: Sequence[BackupEntry],
    found: dict[int, uuid.UUID],
    category_ids: dict[str, uuid.UUID],
) -> None:
    entry_ids = await _entry_ids(db_session, user_id, found.values())
    groups: dict[tuple[uuid.UUID, ...], set[uuid.UUID]] = defaultdict(set)
    for index, manga_id in found.items():
        names = {" ".join(n.split()) for n in entries[index].categories}
        if names:
            key = tuple(sorted(category_ids[n] for n in names))
            groups[key].add(entry_ids[manga_id])
    for ids, members in groups.items():
        await category_links.assign(
            db_session=db_session, entry_ids=sorted(members), category_ids=ids, mode="add"
        )


def _chapter_keys(entries: Sequence[BackupEntry], found: dict[int, uuid.UUID]) -> list[ChapterKey]:
    keys = [(c.provider_id, c.external_id) for i in found for c in entries[i].read_chapters]
    return list(dict.fromkeys(keys))


async def _chapters(
    db_session: AsyncSession, keys: Sequence[ChapterKey]
) -> dict[ChapterKey, tuple[uuid.UUID, uuid.UUID]]:
    """(provider, chapter id) → (chapter row id, its manga id) for the chapters listed here."""
    found: dict[ChapterKey, tuple[uuid.UUID, uuid.UUID]] = {}
    for chunk in transfer._chunks(keys):
        rows = await db_session.execute(
            select(
                StoredChapter.provider_id,
                StoredChapter.external_id,
                StoredChapter.id,
                StoredChapter.manga_id,
            ).where(tuple_(StoredChapter.provider_id, StoredChapter.external_id).in_(chunk))
        )
        found.update({(r.provider_id, r.external_id): (r.id, r.manga_id) for r in rows})
    return found


async def _write_marks(
    db_session: AsyncSession,
    user_id: uuid.UUID,
    marks: Sequence[tuple[uuid.UUID, tuple[uuid.UUID, uuid.UUID], BackupChapter]],
) -> None:
    """Read marks and page positions, added to what the user has here (a chapter read here
    stays read; a position or date set here is kept)."""
    rows = {
        chapter_id: {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "chapter_id": chapter_id,
            "manga_id": manga_id,
            "read": mark.read,
            "last_page": mark.last_page,
            "read_at": mark.read_at,
            "updated_at": utcnow(),
        }
        for _, (chapter_id, manga_id), mark in marks
    }
    table = ChapterProgress.__table__
    for chunk in transfer._chunks(list(rows.values()), 200):
        stmt = dialect_insert(db_session, table).values(list(chunk))
        excluded = stmt.excluded
        await db_session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id", "chapter_id"],
                set_={
                    "read": table.c.read | excluded.read,
                    "last_page": func.coalesce(table.c.last_page, excluded.last_page),
                    "read_at": func.coalesce(table.c.read_at, excluded.read_at),
                },
            )
        )
