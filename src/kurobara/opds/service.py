"""The catalog's data: each function reads what one feed shows through the services the API uses
(library, categories, updates, reading) and hands it to ``feeds.py`` to shape.

Errors a caller maps (besides those of ``reading.listing``, which the manga feeds pass on)::

    CategoryNotFound   (from categories.links) not a category of the user
    PageNotFound       the chapter has no page of that number
    FileNotFound       the chapter is not held as a CBZ on this server
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.categories import service as category_service
from kurobara.categories.links import CategoryNotFound
from kurobara.images.links import IMAGES_PATH, manga_cover_link
from kurobara.images.local import PAGE_URL_PREFIX, LocalStore
from kurobara.images.service import ImageProxy, ServedImage
from kurobara.library import service as library_service
from kurobara.library.models import LibraryEntry
from kurobara.manga.service import MangaNotFound, get_manga
from kurobara.monitoring.clock import Clock
from kurobara.opds import atom, feeds
from kurobara.opds.atom import Feed
from kurobara.opds.feeds import PER_PAGE, ChapterCard, MangaCard, Section
from kurobara.opds.files import ChapterFiles
from kurobara.providers.base import Page
from kurobara.providers.registry import ProviderRegistry
from kurobara.reading import listing
from kurobara.reading.listing import ChapterView
from kurobara.updates.feed import FeedItem, list_new_chapters
from kurobara.users.models import User

PAGE_LIST_TTL_SECONDS = 120.0
PAGE_LIST_CACHE_SIZE = 256


class PageNotFound(LookupError):
    pass


class FileNotFound(LookupError):
    pass


class PageLists:
    """Chapters' page lists for a couple of minutes: a PSE client asks for every page of a
    chapter in turn, and listing the pages is a request to the source each time. Short-lived
    because some sites' page URLs expire within minutes."""

    def __init__(
        self,
        *,
        ttl_seconds: float = PAGE_LIST_TTL_SECONDS,
        size: int = PAGE_LIST_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.size = size
        self.clock = clock
        self._lists: OrderedDict[tuple[uuid.UUID, uuid.UUID], tuple[float, list[Page]]] = (
            OrderedDict()
        )

    def get(self, user_id: uuid.UUID, chapter_id: uuid.UUID) -> list[Page] | None:
        found = self._lists.get((user_id, chapter_id))
        if found is None or found[0] <= self.clock():
            self._lists.pop((user_id, chapter_id), None)
            return None
        return found[1]

    def put(self, user_id: uuid.UUID, chapter_id: uuid.UUID, pages: list[Page]) -> None:
        self._lists[(user_id, chapter_id)] = (self.clock() + self.ttl_seconds, pages)
        self._lists.move_to_end((user_id, chapter_id))
        while len(self._lists) > self.size:
            self._lists.popitem(last=False)


def _manga_card(entry: LibraryEntry, unread: int | None) -> MangaCard:
    return MangaCard(
        id=entry.manga_id,
        title=entry.custom_title or entry.manga.title,
        updated=entry.updated_at,
        cover=manga_cover_link(entry.manga),
        description=entry.manga.description,
        favorite=entry.is_favorite,
        unread=unread,
    )


def _item_card(item: FeedItem, files: ChapterFiles) -> ChapterCard:
    chapter = item.chapter
    return ChapterCard(
        id=chapter.id,
        manga_id=chapter.manga_id,
        manga_title=item.manga.title,
        number=chapter.number_text,
        volume=chapter.volume,
        title=chapter.title,
        language=chapter.language,
        scanlator=chapter.scanlator,
        updated=chapter.published_at or chapter.first_seen_at,
        page_count=chapter.page_count,
        read=item.read,
        last_page=None,
        cover=manga_cover_link(item.manga),
        archive=files.archive(chapter.provider_id, chapter.external_id, chapter.id) is not None,
    )


def _view_card(
    view: ChapterView, *, manga_id: uuid.UUID, manga_title: str, provider_id: str,
    cover: str | None, files: ChapterFiles,
) -> ChapterCard:  # fmt: skip
    return ChapterCard(
        id=view.id,
        manga_id=manga_id,
        manga_title=manga_title,
        number=view.number,
        volume=view.volume,
        title=view.title,
        language=view.language,
        scanlator=view.scanlator,
        updated=view.published_at or view.first_seen_at,
        page_count=view.page_count,
        read=view.read,
        last_page=view.last_page,
        cover=cover,
        archive=files.archive(provider_id, view.external_id, view.id) is not None,
    )


async def navigation_feed(*, db_session: AsyncSession, user: User, now: datetime) -> Feed:
    counts = await library_service.count_entries(db_session=db_session, user_id=user.id)
    favorites = await library_service.count_favorites(db_session=db_session, user_id=user.id)
    categories = await category_service.list_categories(db_session=db_session, user_id=user.id)
    root = feeds.ROOT
    sections = [
        Section("library", "Library", f"{root}/library", atom.NAVIGATION_TYPE,
                f"{counts} manga"),
        Section("favorites", "Favorites", f"{root}/favorites", atom.NAVIGATION_TYPE,
                f"{favorites} manga"),
        Section("categories", "Categories", f"{root}/categories", atom.NAVIGATION_TYPE,
                f"{len(categories)} categories"),
        Section("recent", "Recently updated", f"{root}/recent", atom.ACQUISITION_TYPE,
                "New chapters in your library, newest first"),
        Section("downloaded", "Downloaded chapters", f"{root}/downloaded",
                atom.ACQUISITION_TYPE, "Chapters this server holds as CBZ files"),
    ]  # fmt: skip
    return feeds.navigation(sections=sections, now=now, username=user.username)


async def library_feed(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    page: int,
    now: datetime,
    favorites: bool = False,
    category_id: uuid.UUID | None = None,
    search: str | None = None,
) -> Feed:
    """The user's manga (all, favorites, one category's, or those matching ``search``), by
    title, each leading to its chapters."""
    key, title, path = "library", "Library", f"{feeds.ROOT}/library"
    if favorites:
        key, title, path = "favorites", "Favorites", f"{feeds.ROOT}/favorites"
    if category_id is not None:
        category = await _category(db_session, user_id, category_id)
        key, title = f"category:{category_id}", category
        path = f"{feeds.ROOT}/categories/{category_id}"
    if search is not None:
        key, title, path = f"search:{search}", f"Search: {search}", f"{feeds.ROOT}/search"
    found = await library_service.list_entries(
        db_session=db_session,
        user_id=user_id,
        is_favorite=True if favorites else None,
        search=search,
        category_id=category_id,
        sort_by="title",
        sort_order="asc",
        page=page,
        limit=PER_PAGE,
    )
    cards = [
        _manga_card(entry, found.reading[entry.manga_id].unread_count
                    if entry.manga_id in found.reading else None)
        for entry in found.items
    ]  # fmt: skip
    return feeds.manga_list(key=key, title=title, path=path, cards=cards, total=found.total,
                            page=page, now=now, q=search)  # fmt: skip


async def _category(db_session: AsyncSession, user_id: uuid.UUID, category_id: uuid.UUID) -> str:
    for view in await category_service.list_categories(db_session=db_session, user_id=user_id):
        if view.category.id == category_id:
            return view.category.name
    raise CategoryNotFound([category_id])


async def categories_feed(*, db_session: AsyncSession, user_id: uuid.UUID, now: datetime) -> Feed:
    views = await category_service.list_categories(db_session=db_session, user_id=user_id)
    sections = [
        Section(f"category:{view.category.id}", view.category.name,
                f"{feeds.ROOT}/categories/{view.category.id}", atom.NAVIGATION_TYPE,
                f"{view.entry_count} manga")
        for view in views
    ]  # fmt: skip
    feed = feeds.navigation(sections=sections, now=now, username="")
    self_link = atom.Link(f"{feeds.ROOT}/categories", "self", atom.NAVIGATION_TYPE)
    return Feed(
        id="urn:kurobara:opds:categories",
        title="Categories",
        updated=now,
        links=[self_link, *feeds.common_links()],
        entries=feed.entries,
    )


async def recent_feed(
    *, db_session: AsyncSession, user_id: uuid.UUID, page: int, now: datetime, files: ChapterFiles
) -> Feed:
    found = await list_new_chapters(
        db_session=db_session, user_id=user_id, page=page, limit=PER_PAGE
    )
    return feeds.chapter_list(
        key="recent", title="Recently updated", path=f"{feeds.ROOT}/recent",
        cards=[_item_card(item, files) for item in found.items], total=found.total,
        page=page, now=now, with_manga=True,
    )  # fmt: skip


async def downloaded_feed(
    *, db_session: AsyncSession, user_id: uuid.UUID, page: int, now: datetime, files: ChapterFiles
) -> Feed:
    found = await files.downloaded(
        db_session=db_session, user_id=user_id, page=page, limit=PER_PAGE
    )
    return feeds.chapter_list(
        key="downloaded", title="Downloaded chapters", path=f"{feeds.ROOT}/downloaded",
        cards=[_item_card(item, files) for item in found.items], total=found.total,
        page=page, now=now, with_manga=True,
    )  # fmt: skip


@dataclass(frozen=True)
class Reader:
    """What the manga and page functions need besides the session: the app's parts."""

    registry: ProviderRegistry
    images: ImageProxy
    files: ChapterFiles
    pages: PageLists
    local: LocalStore
    max_age_seconds: float
    clock: Clock


async def manga_feed(
    *, db_session: AsyncSession, reader: Reader, user_id: uuid.UUID, manga_id: uuid.UUID,
    page: int, now: datetime,
) -> Feed:  # fmt: skip
    """One manga's chapters in reading order (the source's, oldest first), paged."""
    found = await listing.chapter_listing(
        db_session=db_session,
        registry=reader.registry,
        manga_id=manga_id,
        user_id=user_id,
        max_age_seconds=reader.max_age_seconds,
        clock=reader.clock,
    )
    manga = await get_manga(db_session=db_session, manga_id=manga_id)
    if manga is None:
        raise MangaNotFound(manga_id)
    # Read before the entry's query, which loads the manga again without its sources.
    cover, description, title = manga_cover_link(manga), manga.description, manga.title
    entry = await library_service.get_entry(
        db_session=db_session, user_id=user_id, manga_id=manga_id
    )
    title = (entry.custom_title if entry is not None else None) or title
    present = [c for c in found.chapters if c.removed_at is None]
    shown = present[(page - 1) * PER_PAGE : page * PER_PAGE]
    cards = [
        _view_card(view, manga_id=manga_id, manga_title=title, provider_id=found.provider_id,
                   cover=cover, files=reader.files)
        for view in shown
    ]  # fmt: skip
    stale = "Shown as last fetched: the source could not be asked now" if found.stale else None
    return feeds.chapter_list(
        key=f"manga:{manga_id}", title=title, path=feeds.manga_href(manga_id), cards=cards,
        total=len(present), page=page, now=now, with_manga=False,
        summary=stale or description,
    )  # fmt: skip


async def _pages(
    *, db_session: AsyncSession, reader: Reader, user_id: uuid.UUID, manga_id: uuid.UUID,
    chapter_id: uuid.UUID,
) -> listing.PageListing:  # fmt: skip
    return await listing.chapter_pages(
        db_session=db_session,
        registry=reader.registry,
        manga_id=manga_id,
        user_id=user_id,
        chapter_ref=str(chapter_id),
        max_age_seconds=reader.max_age_seconds,
        clock=reader.clock,
    )


async def chapter_feed(
    *, db_session: AsyncSession, reader: Reader, user_id: uuid.UUID, manga_id: uuid.UUID,
    chapter_id: uuid.UUID, now: datetime,
) -> Feed:  # fmt: skip
    """One chapter as a one-entry acquisition feed, its pages listed so that its stream link
    carries the page count (a chapter never opened has none stored)."""
    found = await _pages(db_session=db_session, reader=reader, user_id=user_id,
                         manga_id=manga_id, chapter_id=chapter_id)  # fmt: skip
    reader.pages.put(user_id, found.chapter.id, found.pages)
    manga = await get_manga(db_session=db_session, manga_id=manga_id)
    if manga is None:
        raise MangaNotFound(manga_id)
    view = replace(found.chapter, page_count=len(found.pages) or None)
    card = _view_card(view, manga_id=manga_id, manga_title=manga.title,
                      provider_id=found.provider_id, cover=manga_cover_link(manga),
                      files=reader.files)  # fmt: skip
    return feeds.chapter_list(
        key=f"chapter:{chapter_id}", title=feeds.chapter_name(card, with_manga=True),
        path=feeds.chapter_href(manga_id, chapter_id), cards=[card], total=1, page=1,
        now=now, with_manga=False,
        extra_links=[atom.Link(feeds.manga_href(manga_id), "up", atom.ACQUISITION_TYPE)],
    )  # fmt: skip


async def page_image(
    *, db_session: AsyncSession, reader: Reader, user_id: uuid.UUID, manga_id: uuid.UUID,
    chapter_id: uuid.UUID, number: int,
) -> ServedImage:  # fmt: skip
    """Page ``number`` (from 0, as OPDS-PSE counts) of a chapter: through the image proxy
    (cache first) or from the local archive it was uploaded in."""
    pages = reader.pages.get(user_id, chapter_id)
    if pages is None:
        found = await _pages(db_session=db_session, reader=reader, user_id=user_id,
                             manga_id=manga_id, chapter_id=chapter_id)  # fmt: skip
        pages = found.pages
        reader.pages.put(user_id, chapter_id, pages)
    if not 0 <= number < len(pages):
        raise PageNotFound(f"the chapter has {len(pages)} pages (numbered from 0)")
    url = pages[number].url
    if url.startswith(IMAGES_PATH):
        return await reader.images.serve(url[len(IMAGES_PATH) :])
    if url.startswith(PAGE_URL_PREFIX + "/"):
        manga_key, chapter_key, index = url[len(PAGE_URL_PREFIX) + 1 :].split("/")
        local = await asyncio.to_thread(reader.local.page, manga_key, chapter_key, int(index))
        if local is not None:
            return ServedImage(local[0], content=local[1], size=len(local[1]))
    raise PageNotFound("the page's image is not served by this server")


async def chapter_file(
    *, db_session: AsyncSession, files: ChapterFiles, manga_id: uuid.UUID, chapter_id: uuid.UUID
) -> Path:
    """The chapter's CBZ on this server."""
    chapter = await listing.find_chapter(
        db_session=db_session, manga_id=manga_id, chapter_ref=str(chapter_id)
    )
    if chapter is None or chapter.id != chapter_id:
        raise listing.ChapterNotFound(str(chapter_id), manga_id)
    path = await asyncio.to_thread(
        files.archive, chapter.provider_id, chapter.external_id, chapter.id
    )
    if path is None:
        raise FileNotFound("this chapter is not held as a file on this server")
    return path
