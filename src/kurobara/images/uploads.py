"""Uploading CBZ/ZIP archives as local manga, or as new chapters of one.

Errors a caller maps::

    ArchiveRefused   (from ``archives``) the archive was refused; nothing was stored
    MangaNotFound    (from ``manga.service``) no manga with the id asked for
    NotLocalManga    the manga exists but has no local source to add chapters to

The archive is checked whole before a file is written, and the files are written before the
database learns of them; a failure past the check removes what this upload wrote.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.images.archives import ArchiveContents, read_archive
from kurobara.images.local import LOCAL_PROVIDER_ID, LocalStore, page_url
from kurobara.library import service as library_service
from kurobara.manga.models import Manga, MangaSource
from kurobara.manga.service import MangaNotFound
from kurobara.providers.registry import ProviderRegistry
from kurobara.reading.models import StoredChapter
from kurobara.reading.service import FAILED, refresh_source_chapters


class NotLocalManga(ValueError):
    def __init__(self, manga_id: uuid.UUID) -> None:
        super().__init__(
            f"manga {manga_id} is not a local manga; chapters can only be added to uploaded ones"
        )
        self.manga_id = manga_id


@dataclass(frozen=True)
class UploadResult:
    manga: Manga
    created: bool
    chapters: list[StoredChapter]


def _title_from(filename: str | None) -> str:
    stem = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    cleaned = " ".join(stem.replace("_", " ").split())
    return cleaned[:500] or "Untitled"


@dataclass(frozen=True)
class _Target:
    """The local manga an upload adds chapters to, read before the transaction ends."""

    source_id: uuid.UUID
    manga_id: uuid.UUID
    manga_key: str
    title: str


async def _local_source(db_session: AsyncSession, manga_id: uuid.UUID) -> _Target:
    manga = await db_session.get(Manga, manga_id)
    if manga is None:
        raise MangaNotFound(manga_id)
    for source in manga.sources:
        if source.provider_id == LOCAL_PROVIDER_ID:
            return _Target(source.id, manga.id, source.external_id, manga.title)
    raise NotLocalManga(manga_id)


async def upload_archive(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    store: LocalStore,
    user_id: uuid.UUID,
    archive: BinaryIO,
    filename: str | None,
    title: str | None,
    manga_id: uuid.UUID | None,
    max_unpacked_bytes: int,
) -> UploadResult:
    """Store an archive's chapters: into the local manga ``manga_id``, or as a new local manga
    (titled ``title``, else the archive's ComicInfo series, else its file name) that is added to
    the uploader's library. Commits."""
    existing = await _local_source(db_session, manga_id) if manga_id is not None else None
    if db_session.in_transaction():
        await db_session.commit()
    name = _title_from(filename)
    contents = await asyncio.to_thread(
        read_archive, archive, default_title=name, max_unpacked_bytes=max_unpacked_bytes
    )
    if existing is None:
        info = contents.comic_info
        series = (title or (info.series if info else None) or name)[:500]
        summary = info.summary if info else None
        manga_key = await asyncio.to_thread(store.create_manga, series, summary)
    else:
        series, manga_key = existing.title, existing.manga_key
    try:
        keys = await asyncio.to_thread(store.add_chapters, manga_key, archive, contents, series)
    except BaseException:
        if existing is None:
            await asyncio.to_thread(store.remove_manga, manga_key)
        raise
    try:
        return await _record(
            db_session, registry, user_id, existing, manga_key, series, contents, keys
        )
    except BaseException:
        await db_session.rollback()
        if existing is None:
            await asyncio.to_thread(store.remove_manga, manga_key)
        else:
            await asyncio.to_thread(store.remove_chapters, manga_key, keys)
        raise


async def _record(
    db_session: AsyncSession,
    registry: ProviderRegistry,
    user_id: uuid.UUID,
    existing: _Target | None,
    manga_key: str,
    series: str,
    contents: ArchiveContents,
    keys: list[str],
) -> UploadResult:
    if existing is None:
        summary = contents.comic_info.summary if contents.comic_info else None
        manga = Manga(
            title=series,
            title_key=series.lower(),
            description=summary,
            cover_image=page_url(manga_key, keys[0], 1),
            sources=[MangaSource(provider_id=LOCAL_PROVIDER_ID, external_id=manga_key)],
        )
        db_session.add(manga)
        await db_session.commit()
        source_id, manga_id = manga.sources[0].id, manga.id
    else:
        source_id, manga_id = existing.source_id, existing.manga_id
    result = await refresh_source_chapters(
        db_session=db_session, registry=registry, source_id=source_id, skip_down=False
    )
    if result.outcome == FAILED:
        raise RuntimeError(f"local chapters could not be listed: {result.error_message}")
    external_ids = [f"{manga_key}/{key}" for key in keys]
    pages = {
        f"{manga_key}/{key}": n
        for key, n in zip(keys, (len(d.pages) for d in contents.chapters), strict=True)
    }
    for external_id, count in pages.items():
        await db_session.execute(
            update(StoredChapter)
            .where(StoredChapter.source_id == source_id, StoredChapter.external_id == external_id)
            .values(page_count=count)
        )
    await db_session.commit()
    chapters = (
        await db_session.scalars(
            select(StoredChapter)
            .where(StoredChapter.source_id == source_id)
            .where(StoredChapter.external_id.in_(external_ids))
            .order_by(StoredChapter.position)
        )
    ).all()
    if existing is None:
        await library_service.add_entry(
            db_session=db_session, user_id=user_id, manga_id=manga_id, changes={}
        )
    manga_row = await db_session.get(Manga, manga_id, populate_existing=True)
    assert manga_row is not None
    return UploadResult(manga=manga_row, created=existing is None, chapters=list(chapters))
