"""Which results of a search are already in the user's catalog and favorites: one query for the
whole page of results (each result's own source and its ``also_on`` ones), never one per card."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.library.models import LibraryEntry
from kurobara.manga.models import MangaSource
from kurobara.search.schemas import RankedResult


@dataclass(frozen=True)
class Known:
    manga_id: uuid.UUID
    favorite: bool


async def mark_favorites(
    *, db_session: AsyncSession, user_id: uuid.UUID, results: Sequence[RankedResult]
) -> list[RankedResult]:
    """The results, with ``manga_id`` and ``favorite`` set where the catalog knows them."""
    pairs = {
        (hit.provider_id, hit.external_id)
        for result in results
        for hit in (result, *result.also_on)
    }
    if not pairs:
        return list(results)
    rows = (
        await db_session.execute(
            select(
                MangaSource.provider_id,
                MangaSource.external_id,
                MangaSource.manga_id,
                LibraryEntry.is_favorite,
            )
            .outerjoin(
                LibraryEntry,
                and_(
                    LibraryEntry.manga_id == MangaSource.manga_id, LibraryEntry.user_id == user_id
                ),
            )
            .where(tuple_(MangaSource.provider_id, MangaSource.external_id).in_(sorted(pairs)))
        )
    ).all()
    known = {
        (row.provider_id, row.external_id): Known(row.manga_id, bool(row.is_favorite))
        for row in rows
    }
    marked: list[RankedResult] = []
    for result in results:
        found = [known[key] for hit in (result, *result.also_on)
                 if (key := (hit.provider_id, hit.external_id)) in known]  # fmt: skip
        if found:
            best = next((k for k in found if k.favorite), found[0])
            result = result.model_copy(
                update={"manga_id": best.manga_id, "favorite": best.favorite}
            )
        marked.append(result)
    return marked
