"""Favorites export (JSON, CSV) and import. An import matches manga by provider and external id,
so an export moves between instances whose manga ids differ; manga the instance does not know
yet are imported from their providers through the catalog (``fetching.py``), within the request
when there are few of them, else by a job (``jobs.py``)."""

from __future__ import annotations

import csv
import io
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.db.engine import Database
from kurobara.db.types import utcnow
from kurobara.library import fetching, service
from kurobara.library.fetching import NO_SOURCE
from kurobara.library.models import LibraryEntry
from kurobara.library.rules import FORMULA_PREFIXES, csv_cell
from kurobara.library.schemas import (
    ExportItem,
    ExportSource,
    FavoritesExport,
    ImportItem,
    ImportItemResult,
    ImportReport,
    ImportStatus,
)
from kurobara.manga.models import Manga, MangaSource
from kurobara.providers.registry import ProviderRegistry

logger = logging.getLogger(__name__)

# Rows per statement: keeps every IN list and multi-row VALUES well under the bind-parameter
# limits of SQLite (32 766) and asyncpg (32 767).
CHUNK = 500
CSV_COLUMNS = (
    "manga_id",
    "title",
    "custom_title",
    "rating",
    "notes",
    "favorited_at",
    "created_at",
    "updated_at",
    "sources",
)


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def export_favorites(*, db_session: AsyncSession, user_id: uuid.UUID) -> FavoritesExport:
    """Every favorite of the user, oldest first, with the sources that identify its manga."""
    entries = await db_session.scalars(
        service.with_manga(select(LibraryEntry), sources=True)
        .where(LibraryEntry.user_id == user_id, LibraryEntry.is_favorite == True)  # noqa: E712
        .order_by(LibraryEntry.created_at, LibraryEntry.id)
    )
    items = [
        ExportItem(
            manga_id=entry.manga_id,
            title=entry.manga.title,
            custom_title=entry.custom_title,
            rating=entry.rating,
            notes=entry.notes,
            favorited_at=entry.favorited_at,
            created_at=entry.created_at,
            updated_at=entry.updated_at,
            sources=[
                ExportSource(provider_id=s.provider_id, external_id=s.external_id, url=s.url)
                for s in sorted(entry.manga.sources, key=lambda s: (s.created_at, s.id))
            ],
        )
        for entry in entries
    ]
    return FavoritesExport(exported_at=utcnow(), items=items)


def export_csv(export: FavoritesExport) -> str:
    """The export as CSV, one favorite per row; sources as ``provider:external_id`` joined by
    ``"; "``. ``parse_csv`` reads it back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in export.items:
        sources = "; ".join(f"{s.provider_id}:{s.external_id}" for s in item.sources)
        row = (
            item.manga_id,
            item.title,
            item.custom_title,
            item.rating,
            item.notes,
            item.favorited_at.isoformat() if item.favorited_at else None,
            item.created_at.isoformat(),
            item.updated_at.isoformat(),
            sources,
        )
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()


async def _match_by_source(
    db_session: AsyncSession, items: Sequence[ImportItem]
) -> dict[tuple[str, str], uuid.UUID]:
    keys = list(dict.fromkeys((s.provider_id, s.external_id) for i in items for s in i.sources))
    found: dict[tuple[str, str], uuid.UUID] = {}
    for chunk in _chunks(keys):
        rows = await db_session.execute(
            select(MangaSource.provider_id, MangaSource.external_id, MangaSource.manga_id).where(
                tuple_(MangaSource.provider_id, MangaSource.external_id).in_(chunk)
            )
        )
        found.update({(row.provider_id, row.external_id): row.manga_id for row in rows})
    return found


async def _existing_ids(db_session: AsyncSession, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for chunk in _chunks(list(dict.fromkeys(ids))):
        found.update((await db_session.scalars(select(Manga.id).where(Manga.id.in_(chunk)))).all())
    return found


async def _favorited(
    db_session: AsyncSession, user_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for chunk in _chunks(list(dict.fromkeys(ids))):
        query = select(LibraryEntry.manga_id).where(
            LibraryEntry.user_id == user_id,
            LibraryEntry.is_favorite == True,  # noqa: E712
            LibraryEntry.manga_id.in_(chunk),
        )
        found.update((await db_session.scalars(query)).all())
    return found


async def _match_existing(
    db_session: AsyncSession, items: Sequence[ImportItem]
) -> dict[int, uuid.UUID]:
    """Index of each item to the local manga it names: by any of its sources, else by its id
    (an export re-imported into the instance it came from, for manga without sources)."""
    by_source = await _match_by_source(db_session, items)
    local = await _existing_ids(db_session, [i.manga_id for i in items if i.manga_id])
    matched: dict[int, uuid.UUID] = {}
    for index, item in enumerate(items):
        keys = [(s.provider_id, s.external_id) for s in item.sources]
        hits = [by_source[key] for key in keys if key in by_source]
        if hits:
            matched[index] = hits[0]
        elif item.manga_id in local:
            matched[index] = item.manga_id
    return matched


async def _write_favorites(
    db_session: AsyncSession,
    user_id: uuid.UUID,
    items_by_manga: dict[uuid.UUID, ImportItem],
) -> None:
    ids = list(items_by_manga)
    per_manga = {
        manga_id: {"custom_title": item.custom_title, "rating": item.rating, "notes": item.notes}
        for manga_id, item in items_by_manga.items()
    }
    changes = {"is_favorite": True, "custom_title": None, "rating": None, "notes": None}
    for chunk in _chunks(ids):
        await service.upsert_entries(
            db_session=db_session,
            user_id=user_id,
            manga_ids=chunk,
            changes=changes,
            per_manga=per_manga,
            fill_blanks=True,
        )


@dataclass(frozen=True)
class ImportPlan:
    """An import after matching the catalog: the local manga of the items found there, and the
    items that need a provider fetch (the others failed already, with ``errors``)."""

    found: dict[int, uuid.UUID]
    pending: dict[int, ImportItem]
    errors: dict[int, str]


async def plan_import(*, db_session: AsyncSession, items: Sequence[ImportItem]) -> ImportPlan:
    """Match every item against the catalog (database work only, in chunks) and end the read
    transaction, since fetching the rest is network I/O (DESIGN §2)."""
    found = await _match_existing(db_session, items)
    await db_session.commit()
    pending = {i: item for i, item in enumerate(items) if i not in found and item.sources}
    errors = {i: NO_SOURCE for i, item in enumerate(items) if i not in found and not item.sources}
    return ImportPlan(found=found, pending=pending, errors=errors)


def decide(
    items: Mapping[int, ImportItem],
    found: Mapping[int, uuid.UUID],
    errors: Mapping[int, str],
    already: set[uuid.UUID],
) -> tuple[list[ImportItemResult], dict[uuid.UUID, ImportItem]]:
    """Each item's outcome, in index order, and the favorites to write: a manga the user
    already favorited (or an earlier item of the file names) is ``already_present``."""
    results: list[ImportItemResult] = []
    to_write: dict[uuid.UUID, ImportItem] = {}
    for index in sorted(items):
        item, manga_id = items[index], found.get(index)
        status: ImportStatus
        if manga_id is None:
            status, error = "failed", errors.get(index) or "import failed"
        elif manga_id in already or manga_id in to_write:
            status, error = "already_present", None
        else:
            status, error = "imported", None
            to_write[manga_id] = item
        results.append(
            ImportItemResult(
                index=index, title=item.title, manga_id=manga_id, status=status, error=error
            )
        )
    return results, to_write


async def record_outcomes(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    items: Mapping[int, ImportItem],
    found: Mapping[int, uuid.UUID],
    errors: Mapping[int, str],
) -> list[ImportItemResult]:
    """Favorite the items' manga the user lacks, in the session's transaction (not committed),
    and return each item's outcome. Favorites the user already has are left untouched."""
    already = await _favorited(db_session, user_id, [found[i] for i in items if i in found])
    results, to_write = decide(items, found, errors, already)
    if to_write:
        await _write_favorites(db_session, user_id, to_write)
    return results


def report(results: Sequence[ImportItemResult]) -> ImportReport:
    counts = {s: sum(r.status == s for r in results) for s in ("imported", "already_present")}
    return ImportReport(
        imported=counts["imported"],
        already_present=counts["already_present"],
        failed=len(results) - sum(counts.values()),
        items=sorted(results, key=lambda r: r.index),
    )


async def import_inline(
    *,
    db_session: AsyncSession,
    db: Database,
    registry: ProviderRegistry,
    user_id: uuid.UUID,
    items: Sequence[ImportItem],
    plan: ImportPlan,
    per_provider: int,
) -> ImportReport:
    """Finish a planned import within the request: fetch what is missing (no transaction
    open), then write every favorite in one short transaction."""
    fetched = await fetching.fetch_missing(
        db=db, registry=registry, items=plan.pending, per_provider=per_provider
    )
    found = plan.found | {i: f.manga_id for i, f in fetched.items() if f.manga_id}
    errors = plan.errors | {i: f.error for i, f in fetched.items() if f.error}
    results = await record_outcomes(
        db_session=db_session, user_id=user_id, items=dict(enumerate(items)),
        found=found, errors=errors,
    )  # fmt: skip
    await db_session.commit()
    done = report(results)
    logger.info(
        "favorites import user=%s items=%d imported=%d already_present=%d failed=%d",
        user_id,
        len(items),
        done.imported,
        done.already_present,
        done.failed,
    )
    return done


class CsvRefused(ValueError):
    """The CSV is not a favorites export: the message says why, in words."""


def _uncell(text: str) -> str:
    """Undo ``csv_cell``'s formula guard: a ``'`` put before text starting like a formula."""
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def parse_csv(text: str) -> list[ImportItem]:
    """The items of a CSV favorites export (the columns ``export_csv`` writes; extra columns
    are ignored, ``title`` and ``sources`` are needed)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    header = set(rows[0].keys()) if rows else set(next(csv.reader(io.StringIO(text)), []))
    if not {"title", "sources"} <= header:
        raise CsvRefused("the first line must name the columns, with at least title and sources")
    items = []
    for line, row in enumerate(rows, start=2):
        cells = {key: _uncell(value or "").strip() for key, value in row.items() if key}
        sources = [s.strip() for s in cells.get("sources", "").split(";") if s.strip()]
        if any(":" not in s for s in sources):
            raise CsvRefused(f"line {line}: each source must read provider:id")
        try:
            items.append(
                ImportItem.model_validate(
                    {
                        "manga_id": cells.get("manga_id") or None,
                        "title": cells.get("title") or None,
                        "custom_title": cells.get("custom_title") or None,
                        "rating": cells.get("rating") or None,
                        "notes": cells.get("notes") or None,
                        "sources": [
                            dict(zip(("provider_id", "external_id"), s.split(":", 1), strict=True))
                            for s in sources
                        ],
                    }
                )
            )
        except ValidationError as exc:
            field = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise CsvRefused(f"line {line}, {field}: {exc.errors()[0]['msg']}") from exc
    return items
