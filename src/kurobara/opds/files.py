"""Chapters as files for the catalog: which chapters a user can download (the "Downloaded"
feed) and where one chapter's CBZ is. Both are plain functions handed to the catalog in a
``ChapterFiles``, so another store of chapter files (downloads of online chapters) plugs in by
giving its own pair; ``local_files`` is the local archives' (``images/local.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.images.local import LOCAL_PROVIDER_ID, is_key
from kurobara.library.models import LibraryEntry
from kurobara.manga.models import Manga
from kurobara.reading.models import StoredChapter
from kurobara.updates.feed import FeedPage, chapter_page

# (db_session=, user_id=, page=, limit=) -> one page of chapters with their manga and read flag,
# the shape ``updates.feed.list_new_chapters`` answers in.
ChapterLister = Callable[..., Awaitable[FeedPage]]
# (provider_id, external_id, chapter_id) -> the chapter's CBZ on this server, or None.
ArchiveFinder = Callable[[str, str, uuid.UUID], Path | None]


@dataclass(frozen=True)
class ChapterFiles:
    downloaded: ChapterLister
    archive: ArchiveFinder


def local_archive_finder(root: Path) -> ArchiveFinder:
    def find(provider_id: str, external_id: str, chapter_id: uuid.UUID) -> Path | None:
        if provider_id != LOCAL_PROVIDER_ID:
            return None
        manga_key, _, chapter_key = external_id.partition("/")
        if not (is_key(manga_key) and is_key(chapter_key)):
            return None
        path = root / manga_key / f"{chapter_key}.cbz"
        return path if path.is_file() else None

    return find


async def list_local_chapters(
    *, db_session: AsyncSession, user_id: uuid.UUID, page: int, limit: int
) -> FeedPage:
    """The uploaded chapters of the manga in the user's library, by manga title then order."""
    base = (
        select(StoredChapter)
        .join(
            LibraryEntry,
            and_(LibraryEntry.manga_id == StoredChapter.manga_id, LibraryEntry.user_id == user_id),
        )
        .where(StoredChapter.provider_id == LOCAL_PROVIDER_ID, StoredChapter.removed_at.is_(None))
    )
    return await chapter_page(
        db_session=db_session,
        user_id=user_id,
        chapters=base,
        order_by=(Manga.title_key, Manga.id, StoredChapter.position, StoredChapter.id),
        page=page,
        limit=limit,
    )


def local_files(root: Path) -> ChapterFiles:
    """The local archives under ``root`` (``<data_dir>/local``) as the catalog's files."""
    return ChapterFiles(downloaded=list_local_chapters, archive=local_archive_finder(root))
