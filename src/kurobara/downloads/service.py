"""Downloads as users see them: queue chapters (or a manga's unread ones), list the queue with
progress, delete (cancel, or free the file), storage totals, the auto-download rule, and the
local pages the reader uses first.

Every queue function is scoped to one user; the chapter's file is shared (``models.py``).

Errors (routes map them to HTTP)::

    DownloadNotFound    no download request with that id for this user (404)
    ChaptersNotFound    chapter ids that do not exist; nothing was queued (404, lists them)
    MangaNotFound       (from manga.service) no manga with that id (404)
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.downloads import rules
from kurobara.downloads.files import DownloadFiles
from kurobara.downloads.models import ChapterDownload, DownloadRequest, DownloadRule
from kurobara.library.models import LibraryEntry
from kurobara.manga.models import Manga, MangaSource
from kurobara.manga.service import MangaNotFound
from kurobara.monitoring.history import dialect_insert
from kurobara.providers.base import Page
from kurobara.reading.models import ChapterProgress, StoredChapter

CD = ChapterDownload
PAGE_URL = "/api/v1/downloads/chapters/{chapter_id}/pages/{index}"
# Ids per statement: well under SQLite's bound-parameter limit.
CHUNK = 500


class DownloadNotFound(LookupError):
    def __init__(self, request_id: uuid.UUID) -> None:
        super().__init__(f"no download {request_id}")
        self.request_id = request_id


class ChaptersNotFound(LookupError):
    def __init__(self, chapter_ids: Sequence[uuid.UUID]) -> None:
        super().__init__(f"{len(chapter_ids)} chapter(s) not found")
        self.chapter_ids = list(chapter_ids)


@dataclass(frozen=True)
class DownloadView:
    """One row of a user's queue."""

    id: uuid.UUID
    chapter_id: uuid.UUID
    manga_id: uuid.UUID
    manga_title: str
    chapter_number: str | None
    chapter_title: str | None
    provider_id: str
    origin: str
    state: str
    reason: str | None
    attempts: int
    pages_done: int
    page_count: int | None
    size_bytes: int | None
    created_at: datetime
    done_at: datetime | None

    @property
    def progress(self) -> float:
        return rules.progress(self.pages_done, self.page_count, self.state)


@dataclass(frozen=True)
class Usage:
    bytes: int
    chapters: int  # finished downloads
    pending: int  # not finished yet (queued, running, waiting, failed)


def _unique(ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(ids))


async def _queue(
    db_session: AsyncSession,
    *,
    user_id: uuid.UUID,
    chapters: Sequence[StoredChapter],
    origin: str,
    now: datetime,
) -> None:
    """Ensure a download row per chapter (a failed one is queued afresh) and the user's
    request for each; not committed. Upserts: repeating a request changes nothing."""
    for start in range(0, len(chapters), CHUNK):
        part = chapters[start : start + CHUNK]
        rows = [
            {
                "chapter_id": c.id,
                "manga_id": c.manga_id,
                "provider_id": c.provider_id,
                "state": rules.QUEUED,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for c in part
        ]
        insert = dialect_insert(db_session, CD.__table__)
        await db_session.execute(insert.values(rows).on_conflict_do_nothing())
        await db_session.execute(
            update(CD)
            .where(CD.chapter_id.in_([c.id for c in part]), CD.state == rules.FAILED)
            .values(
                state=rules.QUEUED, attempts=0, reason=None, next_attempt_at=now, updated_at=now
            )
        )
        requests = [
            {
                "id": uuid.uuid4(),
                "user_id": user_id,
                "chapter_id": c.id,
                "manga_id": c.manga_id,
                "origin": origin,
                "created_at": now,
            }
            for c in part
        ]
        insert = dialect_insert(db_session, DownloadRequest.__table__)
        await db_session.execute(
            insert.values(requests).on_conflict_do_nothing(index_elements=["user_id", "chapter_id"])
        )


async def queue_chapters(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    chapter_ids: Sequence[uuid.UUID],
    now: datetime,
) -> list[DownloadView]:
    """Queue these chapters for ``user_id``, all or nothing; the user's rows for them."""
    ids = _unique(chapter_ids)
    found = (await db_session.scalars(select(StoredChapter).where(StoredChapter.id.in_(ids)))).all()
    known = {c.id for c in found}
    missing = [i for i in ids if i not in known]
    if missing:
        raise ChaptersNotFound(missing)
    order = {chapter_id: n for n, chapter_id in enumerate(ids)}
    chapters = sorted(found, key=lambda c: order[c.id])
    await _queue(db_session, user_id=user_id, chapters=chapters, origin="user", now=now)
    await db_session.commit()
    return await list_downloads(db_session=db_session, user_id=user_id, chapter_ids=ids)


async def queue_manga(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    manga_id: uuid.UUID,
    unread_only: bool,
    now: datetime,
) -> list[DownloadView]:
    """Queue a manga's chapters (its first source with stored chapters, as listed now), or only
    those ``user_id`` has not read; the user's rows for them."""
    manga = await db_session.get(Manga, manga_id)
    if manga is None:
        raise MangaNotFound(manga_id)
    source_id = await db_session.scalar(
        select(StoredChapter.source_id)
        .join(MangaSource, MangaSource.id == StoredChapter.source_id)
        .where(StoredChapter.manga_id == manga_id)
        .order_by(MangaSource.created_at, MangaSource.provider_id)
        .limit(1)
    )
    if source_id is None:
        return []
    query = select(StoredChapter).where(
        StoredChapter.source_id == source_id, StoredChapter.removed_at.is_(None)
    )
    if unread_only:
        read = exists().where(
            ChapterProgress.chapter_id == StoredChapter.id,
            ChapterProgress.user_id == user_id,
            ChapterProgress.read.is_(True),
        )
        query = query.where(~read)
    chapters = (await db_session.scalars(query.order_by(StoredChapter.position))).all()
    await _queue(db_session, user_id=user_id, chapters=chapters, origin="user", now=now)
    await db_session.commit()
    queued = {c.id for c in chapters}
    views = await list_downloads(db_session=db_session, user_id=user_id, manga_id=manga_id)
    return [view for view in views if view.chapter_id in queued]


async def queue_for_rules(
    *,
    db_session: AsyncSession,
    manga_id: uuid.UUID,
    chapter_ids: Sequence[uuid.UUID],
    now: datetime,
) -> int:
    """New chapters a library update found: queued for every user whose auto-download rule is
    on and who has the manga as a favorite. The number of requests made; committed."""
    if not chapter_ids:
        return 0
    users = (
        await db_session.scalars(
            select(DownloadRule.user_id)
            .join(LibraryEntry, LibraryEntry.user_id == DownloadRule.user_id)
            .where(
                DownloadRule.favorites_new_chapters.is_(True),
                LibraryEntry.manga_id == manga_id,
                LibraryEntry.is_favorite.is_(True),
            )
        )
    ).all()
    if not users:
        return 0
    chapters = (
        await db_session.scalars(
            select(StoredChapter)
            .where(StoredChapter.id.in_(_unique(chapter_ids)))
            .order_by(StoredChapter.position)
        )
    ).all()
    for user_id in users:
        await _queue(db_session, user_id=user_id, chapters=chapters, origin="rule", now=now)
    await db_session.commit()
    return len(users) * len(chapters)


async def list_downloads(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    manga_id: uuid.UUID | None = None,
    chapter_ids: Sequence[uuid.UUID] | None = None,
) -> list[DownloadView]:
    """The user's queue, newest request first (or the rows of ``manga_id`` / ``chapter_ids``,
    at most ``schemas.MAX_CHAPTERS`` of those)."""
    query = (
        select(DownloadRequest, CD, StoredChapter, Manga.title)
        .join(CD, CD.chapter_id == DownloadRequest.chapter_id)
        .join(StoredChapter, StoredChapter.id == DownloadRequest.chapter_id)
        .join(Manga, Manga.id == DownloadRequest.manga_id)
        .where(DownloadRequest.user_id == user_id)
        .order_by(DownloadRequest.created_at.desc(), StoredChapter.position.desc())
    )
    if manga_id is not None:
        query = query.where(DownloadRequest.manga_id == manga_id)
    if chapter_ids is not None:
        if not chapter_ids:
            return []
        query = query.where(DownloadRequest.chapter_id.in_(list(chapter_ids)))
    rows = (await db_session.execute(query)).all()
    return [_view(request, download, chapter, title) for request, download, chapter, title in rows]


def _view(
    request: DownloadRequest, download: ChapterDownload, chapter: StoredChapter, title: str
) -> DownloadView:
    return DownloadView(
        id=request.id,
        chapter_id=request.chapter_id,
        manga_id=request.manga_id,
        manga_title=title,
        chapter_number=chapter.number_text,
        chapter_title=chapter.title,
        provider_id=download.provider_id,
        origin=request.origin,
        state=download.state,
        reason=download.reason,
        attempts=download.attempts,
        pages_done=download.pages_done,
        page_count=download.page_count,
        size_bytes=download.size_bytes,
        created_at=request.created_at,
        done_at=download.done_at,
    )


async def delete_download(
    *, db_session: AsyncSession, user_id: uuid.UUID, request_id: uuid.UUID, files: DownloadFiles
) -> bool:
    """Take the user's request away: a queued download is cancelled, a finished one's file is
    deleted, unless another user still wants the chapter. True when the file went."""
    request = await db_session.scalar(
        select(DownloadRequest).where(
            DownloadRequest.id == request_id, DownloadRequest.user_id == user_id
        )
    )
    if request is None:
        raise DownloadNotFound(request_id)
    chapter_id, manga_id = request.chapter_id, request.manga_id
    await db_session.execute(delete(DownloadRequest).where(DownloadRequest.id == request_id))
    others = exists().where(DownloadRequest.chapter_id == CD.chapter_id)
    gone = (
        await db_session.execute(
            delete(CD).where(CD.chapter_id == chapter_id, ~others).returning(CD.chapter_id)
        )
    ).first()
    await db_session.commit()
    if gone is None:
        return False
    # A Downloader busy with it notices at its next page (its conditional writes find no row)
    # and removes what it wrote since.
    await asyncio.to_thread(files.remove, manga_id, chapter_id)
    return True


async def usage(*, db_session: AsyncSession, user_id: uuid.UUID) -> Usage:
    """The bytes of the user's finished downloads (a file shared with another user counts for
    both), how many are finished and how many are not."""
    done = CD.state == rules.DONE
    row = (
        await db_session.execute(
            select(
                func.coalesce(func.sum(CD.size_bytes).filter(done), 0),
                func.count().filter(done),
                func.count().filter(CD.state != rules.DONE),
            )
            .select_from(DownloadRequest)
            .join(CD, CD.chapter_id == DownloadRequest.chapter_id)
            .where(DownloadRequest.user_id == user_id)
        )
    ).one()
    return Usage(bytes=int(row[0] or 0), chapters=int(row[1] or 0), pending=int(row[2] or 0))


async def get_rule(*, db_session: AsyncSession, user_id: uuid.UUID) -> DownloadRule:
    rule = await db_session.get(DownloadRule, user_id)
    return rule or DownloadRule(user_id=user_id, favorites_new_chapters=False)


async def set_rule(
    *, db_session: AsyncSession, user_id: uuid.UUID, favorites_new_chapters: bool
) -> DownloadRule:
    insert = dialect_insert(db_session, DownloadRule.__table__).values(
        user_id=user_id, favorites_new_chapters=favorites_new_chapters
    )
    await db_session.execute(
        insert.on_conflict_do_update(
            index_elements=["user_id"], set_={"favorites_new_chapters": favorites_new_chapters}
        )
    )
    await db_session.commit()
    return await get_rule(db_session=db_session, user_id=user_id)


async def downloaded_pages(*, db_session: AsyncSession, chapter_id: uuid.UUID) -> list[Page] | None:
    """The pages of a chapter's finished download, served from its CBZ; None when there is none.
    Any reader gets them: the file holds the catalog's chapter, not anything of one user's."""
    row = (
        await db_session.execute(
            select(CD.page_count).where(CD.chapter_id == chapter_id, CD.state == rules.DONE)
        )
    ).first()
    if row is None or not row.page_count:
        return None
    return [
        Page(index=i, url=PAGE_URL.format(chapter_id=chapter_id, index=i))
        for i in range(1, row.page_count + 1)
    ]


async def downloaded_ids(
    *, db_session: AsyncSession, chapter_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these chapters have a finished download."""
    found: set[uuid.UUID] = set()
    ids = _unique(chapter_ids)
    for start in range(0, len(ids), CHUNK):
        rows = await db_session.scalars(
            select(CD.chapter_id).where(
                and_(CD.chapter_id.in_(ids[start : start + CHUNK]), CD.state == rules.DONE)
            )
        )
        found.update(rows.all())
    return found


@dataclass(frozen=True)
class FinishedFile:
    chapter_id: uuid.UUID
    manga_id: uuid.UUID
    name: str  # for Content-Disposition: "<manga title> - <chapter>.cbz"


async def finished_file(
    *, db_session: AsyncSession, chapter_id: uuid.UUID, user_id: uuid.UUID | None = None
) -> FinishedFile | None:
    """A chapter's finished download (one ``user_id`` asked for, when given)."""
    query = (
        select(CD.chapter_id, CD.manga_id, Manga.title, StoredChapter.number_text)
        .join(Manga, Manga.id == CD.manga_id)
        .join(StoredChapter, StoredChapter.id == CD.chapter_id)
        .where(CD.chapter_id == chapter_id, CD.state == rules.DONE)
    )
    if user_id is not None:
        query = query.where(
            exists().where(
                DownloadRequest.chapter_id == CD.chapter_id, DownloadRequest.user_id == user_id
            )
        )
    row = (await db_session.execute(query)).first()
    if row is None:
        return None
    label = f"Chapter {row.number_text}" if row.number_text else "Chapter"
    return FinishedFile(row.chapter_id, row.manga_id, f"{row.title} - {label}.cbz")
