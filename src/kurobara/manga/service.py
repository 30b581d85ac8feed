"""Catalog logic: import a manga from a provider, read it back, list its chapters and pages.

Errors a caller maps::

    MangaNotFound        no manga with that id in the catalog
    NoUsableSource       none of the manga's sources has a registered, enabled provider
    UnknownProvider      (from the registry) the provider id is not registered
    ProviderError        (from the provider) the site failed; ``UnknownManga`` when it said the
                         manga or chapter does not exist

Provider calls never run inside a database transaction: the session's transaction is ended
(committed) before the network call, and a short one records the result afterwards.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.manga.models import Manga, MangaSource
from kurobara.manga.schemas import ChapterList, PageList
from kurobara.providers.base import Chapter, MangaDetails, Page, Provider
from kurobara.providers.registry import ProviderRegistry

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

CHAPTER_CACHE_SECONDS = 300.0
CHAPTER_CACHE_ENTRIES = 1024


class MangaNotFound(LookupError):
    def __init__(self, manga_id: uuid.UUID) -> None:
        super().__init__(f"manga {manga_id} not found")
        self.manga_id = manga_id


class NoUsableSource(LookupError):
    def __init__(self, manga_id: uuid.UUID) -> None:
        super().__init__(f"none of the providers of manga {manga_id} is configured and enabled")
        self.manga_id = manga_id


class TTLCache(Generic[K, V]):
    """A small in-process cache: entries live ``ttl`` seconds, the oldest go first when full."""

    def __init__(
        self,
        *,
        ttl: float,
        max_entries: int = CHAPTER_CACHE_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if self.clock() >= expires:
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        self._entries.pop(key, None)
        self._entries[key] = (self.clock() + self.ttl, value)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


ChapterCache = TTLCache[tuple[str, str], list[Chapter]]


async def _end_transaction(db_session: AsyncSession) -> None:
    """Close the read transaction before talking to a site (committing keeps loaded objects
    usable; a rollback would expire them)."""
    if db_session.in_transaction():
        await db_session.commit()


async def get_manga(*, db_session: AsyncSession, manga_id: uuid.UUID) -> Manga | None:
    return await db_session.get(Manga, manga_id)


async def get_by_source(
    *, db_session: AsyncSession, provider_id: str, external_id: str
) -> Manga | None:
    return await db_session.scalar(
        select(Manga)
        .join(MangaSource)
        .where(MangaSource.provider_id == provider_id, MangaSource.external_id == external_id)
    )


def _clean(value: str | None, max_length: int) -> str | None:
    """Text from a site as a column can hold it: no NUL (PostgreSQL refuses it), not too long."""
    if value is None:
        return None
    value = value.replace("\x00", "").strip()
    return value[:max_length] or None


def _manga_from_details(provider: Provider, details: MangaDetails) -> Manga:
    title = _clean(details.title, 500) or details.external_id
    cover = details.cover_url if details.cover_url and len(details.cover_url) <= 1000 else None
    url = details.url if details.url and len(details.url) <= 1000 else None
    return Manga(
        title=title,
        title_key=title.lower(),
        alt_titles=[t for t in (_clean(alt, 500) for alt in details.alt_titles) if t],
        description=_clean(details.description, 100_000),
        cover_image=cover,
        status=_clean(details.status, 30),
        year=details.year,
        genres=[g for g in (_clean(genre, 100) for genre in details.genres) if g],
        nsfw=details.nsfw or provider.definition.nsfw,
        sources=[
            MangaSource(
                provider_id=provider.id,
                external_id=_clean(details.external_id, 255) or details.external_id,
                url=url,
            )
        ],
    )


async def import_source(
    *, db_session: AsyncSession, registry: ProviderRegistry, provider_id: str, external_id: str
) -> tuple[Manga, bool]:
    """The manga of ``provider_id``/``external_id``, imported from the provider unless the
    catalog has it already; ``(manga, created)``.

    Two imports of one source at once create one manga: the unique (provider, external id)
    constraint stops the second insert, which then reads the first one's row. Commits the
    session's transaction (before the provider call and after the insert)."""
    provider = registry.get(provider_id)
    existing = await get_by_source(
        db_session=db_session, provider_id=provider_id, external_id=external_id
    )
    if existing is not None:
        return existing, False
    await _end_transaction(db_session)
    details = await provider.get_manga_details(external_id)
    manga = _manga_from_details(provider, details)
    # The site's own id for it (a canonical form of the one asked for).
    stored_id = manga.sources[0].external_id
    db_session.add(manga)
    try:
        await db_session.commit()
    except IntegrityError:
        await db_session.rollback()
        existing = await get_by_source(
            db_session=db_session, provider_id=provider.id, external_id=stored_id
        )
        if existing is None:
            raise
        return existing, False
    return manga, True


async def import_from_provider(
    *, db_session: AsyncSession, registry: ProviderRegistry, provider_id: str, external_id: str
) -> Manga:
    """Import (or find) the manga of one provider source; see ``import_source``."""
    manga, _ = await import_source(
        db_session=db_session,
        registry=registry,
        provider_id=provider_id,
        external_id=external_id,
    )
    return manga


async def _source_of(
    *, db_session: AsyncSession, registry: ProviderRegistry, manga_id: uuid.UUID
) -> tuple[Provider, MangaSource]:
    """The manga's first source whose provider is registered and enabled, oldest first."""
    manga = await get_manga(db_session=db_session, manga_id=manga_id)
    if manga is None:
        raise MangaNotFound(manga_id)
    for source in sorted(manga.sources, key=lambda s: (s.created_at, s.provider_id)):
        if source.provider_id in registry:
            provider = registry.get(source.provider_id)
            if provider.definition.enabled:
                await _end_transaction(db_session)
                return provider, source
    raise NoUsableSource(manga_id)


async def list_chapters(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    cache: ChapterCache,
    manga_id: uuid.UUID,
) -> ChapterList:
    """The manga's chapters from its provider, cached briefly per (provider, external id)."""
    provider, source = await _source_of(db_session=db_session, registry=registry, manga_id=manga_id)
    key = (provider.id, source.external_id)
    chapters = cache.get(key)
    if chapters is None:
        chapters = await provider.get_chapters(source.external_id)
        cache.put(key, chapters)
    return ChapterList(
        manga_id=manga_id,
        provider_id=provider.id,
        external_id=source.external_id,
        chapters=chapters,
    )


async def list_pages(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    manga_id: uuid.UUID,
    chapter_id: str,
) -> PageList:
    """A chapter's page image URLs, from the provider its chapter list came from. Not cached:
    some sites hand out image URLs that expire within minutes."""
    provider, _ = await _source_of(db_session=db_session, registry=registry, manga_id=manga_id)
    pages = await provider.get_pages(chapter_id)
    return PageList(manga_id=manga_id, provider_id=provider.id, chapter_id=chapter_id, pages=pages)


@dataclass(frozen=True)
class Reading:
    """One chapter opened for reading: its pages and its neighbours in the chapter list."""

    chapter: Chapter
    pages: list[Page]
    previous: Chapter | None
    next: Chapter | None
    provider_id: str


async def read_chapter(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    cache: ChapterCache,
    manga_id: uuid.UUID,
    chapter_id: str,
) -> Reading | None:
    """A chapter of the manga with its pages and neighbours (the reader's previous/next links);
    None when the provider's chapter list does not have ``chapter_id``, so a made-up id never
    reaches the site."""
    listing = await list_chapters(
        db_session=db_session, registry=registry, cache=cache, manga_id=manga_id
    )
    ids = [chapter.external_id for chapter in listing.chapters]
    if chapter_id not in ids:
        return None
    at = ids.index(chapter_id)
    pages = await list_pages(
        db_session=db_session, registry=registry, manga_id=manga_id, chapter_id=chapter_id
    )
    chapters = listing.chapters
    return Reading(
        chapter=chapters[at],
        pages=pages.pages,
        previous=chapters[at - 1] if at > 0 else None,
        next=chapters[at + 1] if at + 1 < len(chapters) else None,
        provider_id=listing.provider_id,
    )
