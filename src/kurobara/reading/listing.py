"""What a reader asks for: a manga's chapter list (answered from the database, refreshed from
the provider when older than ``chapter_cache_seconds``, stored and flagged ``stale`` when the
provider is down, switched off or failing), a chapter's pages, and the reader's view of one
chapter with its neighbours.

Errors a caller maps::

    MangaNotFound       (from manga.service) no manga with that id
    NoUsableSource      (from manga.service) no source is enabled and nothing is stored
    ChapterNotFound     the manga has no chapter with that id
    ProviderSkipped     (from reading.service) the provider may not be asked and nothing
                        stored answers instead
    ProviderError       (from the provider) it failed and nothing stored answers instead
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.images.links import page_links
from kurobara.manga.models import Manga, MangaSource
from kurobara.manga.service import MangaNotFound, NoUsableSource
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.providers.base import Page
from kurobara.providers.registry import ProviderRegistry
from kurobara.reading import rules
from kurobara.reading.models import ChapterProgress, ChapterSync, StoredChapter
from kurobara.reading.service import (
    FAILED,
    SKIPPED,
    ProviderSkipped,
    ProviderState,
    provider_states,
    refresh_source_chapters,
    skip_reason,
)


class ChapterNotFound(LookupError):
    def __init__(self, chapter_ref: str, manga_id: uuid.UUID | None = None) -> None:
        where = f"manga {manga_id}" if manga_id is not None else "any manga"
        super().__init__(f"{where} has no chapter {chapter_ref!r}")
        self.chapter_ref = chapter_ref
        self.manga_id = manga_id


@dataclass(frozen=True)
class ChapterView:
    """One stored chapter with the caller's progress in it."""

    id: uuid.UUID
    external_id: str
    number: str | None
    number_value: float | None
    volume: str | None
    title: str | None
    language: str | None
    scanlator: str | None
    published_at: datetime | None
    url: str | None
    position: int
    page_count: int | None
    first_seen_at: datetime
    removed_at: datetime | None
    read: bool
    last_page: int | None

    @classmethod
    def of(cls, row: StoredChapter, progress: ChapterProgress | None) -> ChapterView:
        return cls(
            id=row.id,
            external_id=row.external_id,
            number=row.number_text,
            number_value=row.number,
            volume=row.volume,
            title=row.title,
            language=row.language,
            scanlator=row.scanlator,
            published_at=row.published_at,
            url=row.url,
            position=row.position,
            page_count=row.page_count,
            first_seen_at=row.first_seen_at,
            removed_at=row.removed_at,
            read=progress.read if progress is not None else False,
            last_page=progress.last_page if progress is not None else None,
        )


@dataclass(frozen=True)
class ChapterListing:
    """A manga's stored chapter list (provider order) and how current it is: ``stale`` when
    this answer could not be refreshed as it should have been; ``provider_status`` is the
    monitor's status, or ``disabled`` / ``unregistered``; ``error_kind`` why it is stale."""

    manga_id: uuid.UUID
    provider_id: str
    external_id: str
    chapters: list[ChapterView]
    stale: bool
    provider_status: str | None
    error_kind: str | None
    error_message: str | None
    refreshed_at: datetime | None


def _status_word(reason: str | None, state: ProviderState | None) -> str | None:
    if reason in (rules.DISABLED, rules.UNREGISTERED):
        return reason
    return state.status if state is not None else None


async def _manga(db_session: AsyncSession, manga_id: uuid.UUID) -> Manga:
    manga = await db_session.get(Manga, manga_id)
    if manga is None:
        raise MangaNotFound(manga_id)
    return manga


async def _pick_source(
    db_session: AsyncSession,
    registry: ProviderRegistry,
    manga: Manga,
    states: dict[str, ProviderState],
) -> MangaSource:
    """The oldest source whose provider is configured and switched on (down or not: its stored
    list still answers); else the oldest one with stored chapters; else ``NoUsableSource``."""
    sources = sorted(manga.sources, key=lambda s: (s.created_at, s.provider_id))
    for source in sources:
        state = states.get(source.provider_id)
        if skip_reason(registry, source.provider_id, state, skip_down=False) is None:
            return source
    stored = set(
        (
            await db_session.scalars(
                select(StoredChapter.source_id).where(StoredChapter.manga_id == manga.id).distinct()
            )
        ).all()
    )
    for source in sources:
        if source.id in stored:
            return source
    raise NoUsableSource(manga.id)


async def _stored(
    db_session: AsyncSession, source_id: uuid.UUID, manga_id: uuid.UUID, user_id: uuid.UUID
) -> list[ChapterView]:
    rows = (
        await db_session.scalars(
            select(StoredChapter)
            .where(StoredChapter.source_id == source_id)
            .order_by(StoredChapter.position, StoredChapter.first_seen_at, StoredChapter.id)
        )
    ).all()
    progress = {
        p.chapter_id: p
        for p in (
            await db_session.scalars(
                select(ChapterProgress).where(
                    ChapterProgress.user_id == user_id, ChapterProgress.manga_id == manga_id
                )
            )
        ).all()
    }
    return [ChapterView.of(row, progress.get(row.id)) for row in rows]


async def chapter_listing(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    manga_id: uuid.UUID,
    user_id: uuid.UUID,
    max_age_seconds: float,
    clock: Clock | None = None,
) -> ChapterListing:
    """The manga's chapter list for ``user_id``, from the database; fetched from the provider
    first when the last attempt is older than ``max_age_seconds`` (and the provider may be
    asked). Shared by every replica: the age is the stored ``chapter_sync`` row's."""
    clock = clock or SystemClock()
    manga = await _manga(db_session, manga_id)
    states = await provider_states(
        db_session=db_session, provider_ids=[s.provider_id for s in manga.sources]
    )
    source = await _pick_source(db_session, registry, manga, states)
    state = states.get(source.provider_id)
    reason = skip_reason(registry, source.provider_id, state, skip_down=True)
    sync = await db_session.get(ChapterSync, source.id)
    due = sync is None or not rules.is_fresh(sync.attempted_at, clock.now(), max_age_seconds)
    error_kind = sync.error_kind if sync is not None else None
    error_message = sync.error_message if sync is not None else None
    if reason is None and due:
        result = await refresh_source_chapters(
            db_session=db_session, registry=registry, source_id=source.id, clock=clock
        )
        states = await provider_states(db_session=db_session, provider_ids=[source.provider_id])
        state = states.get(source.provider_id)
        if result.outcome == SKIPPED:
            reason = result.reason
        error_kind, error_message = result.error_kind, result.error_message
        if result.outcome == FAILED and result.error is not None:
            failure: Exception | None = result.error
        else:
            failure = None
        sync = await db_session.get(ChapterSync, source.id, populate_existing=True)
    else:
        failure = None
    chapters = await _stored(db_session, source.id, manga_id, user_id)
    stale = reason is not None or error_kind is not None
    if not chapters and stale:
        if failure is not None:
            raise failure
        if reason is not None:
            kind = state.error_kind if state is not None else None
            raise ProviderSkipped(source.provider_id, reason, kind)
    if reason == rules.DOWN and state is not None:
        error_kind, error_message = state.error_kind, state.error_message
    return ChapterListing(
        manga_id=manga_id,
        provider_id=source.provider_id,
        external_id=source.external_id,
        chapters=chapters,
        stale=stale,
        provider_status=_status_word(reason, state),
        error_kind=error_kind,
        error_message=error_message,
        refreshed_at=sync.refreshed_at if sync is not None else None,
    )


@dataclass(frozen=True)
class PageListing:
    manga_id: uuid.UUID
    provider_id: str
    chapter: ChapterView
    pages: list[Page]


async def find_chapter(
    *, db_session: AsyncSession, manga_id: uuid.UUID, chapter_ref: str
) -> StoredChapter | None:
    """A stored chapter of the manga by its id, or by the site's id (the reader's URLs)."""
    try:
        by_id: uuid.UUID | None = uuid.UUID(chapter_ref)
    except ValueError:
        by_id = None
    match = StoredChapter.external_id == chapter_ref
    if by_id is not None:
        match = or_(StoredChapter.id == by_id, match)
    rows = (
        await db_session.scalars(
            select(StoredChapter)
            .where(StoredChapter.manga_id == manga_id, match)
            .order_by(StoredChapter.removed_at.is_not(None), StoredChapter.first_seen_at)
        )
    ).all()
    exact = [row for row in rows if row.id == by_id]
    return exact[0] if exact else (rows[0] if rows else None)


async def chapter_pages(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    manga_id: uuid.UUID,
    user_id: uuid.UUID,
    chapter_ref: str,
    max_age_seconds: float,
    clock: Clock | None = None,
) -> PageListing:
    """A chapter's page image URLs, from the provider of the source it was listed by. Not
    cached: some sites hand out image URLs that expire within minutes. The page count is
    stored, so reaching the last page can mark the chapter read.

    A chapter the database does not know yet (a list never fetched, or fetched before the
    chapter appeared) is looked for once more after refreshing the list, so a made-up id never
    reaches the site."""
    await _manga(db_session, manga_id)
    chapter = await find_chapter(db_session=db_session, manga_id=manga_id, chapter_ref=chapter_ref)
    if chapter is None:
        await chapter_listing(
            db_session=db_session,
            registry=registry,
            manga_id=manga_id,
            user_id=user_id,
            max_age_seconds=max_age_seconds,
            clock=clock,
        )
        chapter = await find_chapter(
            db_session=db_session, manga_id=manga_id, chapter_ref=chapter_ref
        )
    if chapter is None:
        raise ChapterNotFound(chapter_ref, manga_id)
    states = await provider_states(db_session=db_session, provider_ids=[chapter.provider_id])
    state = states.get(chapter.provider_id)
    reason = skip_reason(registry, chapter.provider_id, state, skip_down=True)
    if reason is not None:
        raise ProviderSkipped(chapter.provider_id, reason, state.error_kind if state else None)
    progress = await db_session.scalar(
        select(ChapterProgress).where(
            ChapterProgress.user_id == user_id, ChapterProgress.chapter_id == chapter.id
        )
    )
    view = ChapterView.of(chapter, progress)
    if db_session.in_transaction():
        await db_session.commit()
    pages = await registry.get(chapter.provider_id).get_pages(chapter.external_id)
    if pages and chapter.page_count != len(pages):
        chapter.page_count = len(pages)
        await db_session.commit()
    # Served through the image proxy, fetched with the chapter's page as the Referer.
    pages = page_links(
        chapter.provider_id, pages, chapter=chapter.external_id, chapter_url=view.url
    )
    return PageListing(
        manga_id=manga_id, provider_id=chapter.provider_id, chapter=view, pages=pages
    )


@dataclass(frozen=True)
class Reading:
    """One chapter opened for reading: its pages and its neighbours in the chapter list."""

    chapter: ChapterView
    pages: list[Page]
    previous: ChapterView | None
    next: ChapterView | None
    provider_id: str


async def read_chapter(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    manga_id: uuid.UUID,
    user_id: uuid.UUID,
    chapter_ref: str,
    max_age_seconds: float,
    clock: Clock | None = None,
) -> Reading:
    """A chapter with its pages and its neighbours among the chapters still listed (the
    reader's previous/next links)."""
    pages = await chapter_pages(
        db_session=db_session,
        registry=registry,
        manga_id=manga_id,
        user_id=user_id,
        chapter_ref=chapter_ref,
        max_age_seconds=max_age_seconds,
        clock=clock,
    )
    listing = await chapter_listing(
        db_session=db_session,
        registry=registry,
        manga_id=manga_id,
        user_id=user_id,
        max_age_seconds=max_age_seconds,
        clock=clock,
    )
    present = [c for c in listing.chapters if c.removed_at is None or c.id == pages.chapter.id]
    ids = [c.id for c in present]
    at = ids.index(pages.chapter.id) if pages.chapter.id in ids else None
    return Reading(
        chapter=present[at] if at is not None else pages.chapter,
        pages=pages.pages,
        previous=present[at - 1] if at is not None and at > 0 else None,
        next=present[at + 1] if at is not None and at + 1 < len(present) else None,
        provider_id=pages.provider_id,
    )
