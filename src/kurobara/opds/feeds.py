"""What each catalog page says, as pure functions from domain data to ``atom.Feed``: addresses,
titles, paging links and the OPDS-PSE stream link of a chapter. ``service.py`` fetches the data.

Manga lists (library, favorites, a category, search) are navigation feeds whose entries lead to
one manga's chapters, with its cover; a manga's chapters, new chapters and downloaded chapters
are acquisition feeds whose entries are chapters, each readable page by page (``pse:stream``)
and downloadable as a CBZ where this server holds one.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from kurobara.opds import atom
from kurobara.opds.atom import Entry, Feed, Link, Paging

ROOT = "/opds"
PER_PAGE = 50
# The page template OPDS-PSE clients fill in: ``{pageNumber}`` from 0, ``{maxWidth}`` in pixels.
STREAM_TEMPLATE = "/pages/{pageNumber}?width={maxWidth}"
STREAM_TYPE = "image/jpeg"  # what PSE clients expect to see; the real type is sent per page


@dataclass(frozen=True)
class MangaCard:
    id: uuid.UUID
    title: str  # what the user sees: their custom title, else the manga's
    updated: datetime
    cover: str | None
    description: str | None
    favorite: bool
    unread: int | None = None


@dataclass(frozen=True)
class ChapterCard:
    id: uuid.UUID
    manga_id: uuid.UUID
    manga_title: str
    number: str | None
    volume: str | None
    title: str | None
    language: str | None
    scanlator: str | None
    updated: datetime
    page_count: int | None
    read: bool
    last_page: int | None
    cover: str | None
    archive: bool  # this server holds the chapter as a CBZ


def manga_href(manga_id: uuid.UUID) -> str:
    return f"{ROOT}/manga/{manga_id}"


def chapter_href(manga_id: uuid.UUID, chapter_id: uuid.UUID) -> str:
    return f"{manga_href(manga_id)}/chapters/{chapter_id}"


def with_query(path: str, **params: str | int | None) -> str:
    given = {key: value for key, value in params.items() if value is not None}
    return f"{path}?{urlencode(given)}" if given else path


def paging_links(
    path: str, *, page: int, total: int, kind: str, params: dict[str, str | None] | None = None
) -> tuple[list[Link], Paging]:
    """``self``, ``first``, and ``previous``/``next``/``last`` where they exist."""
    params = params or {}
    per_page = PER_PAGE
    last = max(1, math.ceil(total / per_page))
    links = [
        Link(with_query(path, **params, page=page if page > 1 else None), "self", kind),
        Link(with_query(path, **params), "first", kind),
    ]
    if page > 1:
        previous = min(page - 1, last)
        links.append(Link(with_query(path, **params, page=previous if previous > 1 else None),
                          "previous", kind))  # fmt: skip
    if page < last:
        links.append(Link(with_query(path, **params, page=page + 1), "next", kind))
        links.append(Link(with_query(path, **params, page=last), "last", kind))
    return links, Paging(total=total, per_page=per_page, start_index=(page - 1) * per_page + 1)


def common_links() -> list[Link]:
    return [
        Link(ROOT, "start", atom.NAVIGATION_TYPE, title="Kurobara"),
        Link(f"{ROOT}/search.xml", "search", atom.OPENSEARCH_TYPE, title="Search the library"),
    ]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    href: str
    kind: str
    content: str


def navigation(*, sections: list[Section], now: datetime, username: str) -> Feed:
    entries = [
        Entry(
            id=f"urn:kurobara:opds:{section.key}",
            title=section.title,
            updated=now,
            content=section.content,
            links=[Link(section.href, atom.REL_SUBSECTION, section.kind)],
        )
        for section in sections
    ]
    links = [Link(ROOT, "self", atom.NAVIGATION_TYPE), *common_links()]
    return Feed(
        id="urn:kurobara:opds:root",
        title="Kurobara",
        subtitle=f"{username}'s library",
        updated=now,
        links=links,
        entries=entries,
    )


def _cover_links(cover: str | None) -> list[Link]:
    if not cover:
        return []
    # The proxy serves whatever type the source has; clients look at the bytes they get.
    return [
        Link(cover, atom.REL_IMAGE, "image/jpeg"),
        Link(cover, atom.REL_THUMBNAIL, "image/jpeg"),
    ]


def manga_entry(card: MangaCard) -> Entry:
    notes = ["Favorite" if card.favorite else None]
    if card.unread is not None:
        notes.append(f"{card.unread} unread" if card.unread else "All read")
    return Entry(
        id=f"urn:kurobara:manga:{card.id}",
        title=card.title,
        updated=card.updated,
        summary=card.description,
        content=" · ".join(note for note in notes if note) or None,
        links=[
            Link(manga_href(card.id), atom.REL_SUBSECTION, atom.ACQUISITION_TYPE, "Chapters"),
            *_cover_links(card.cover),
        ],
    )


def manga_list(
    *,
    key: str,
    title: str,
    path: str,
    cards: list[MangaCard],
    total: int,
    page: int,
    now: datetime,
    **params: str | None,
) -> Feed:
    links, paging = paging_links(
        path, page=page, total=total, kind=atom.NAVIGATION_TYPE, params=params
    )
    return Feed(
        id=f"urn:kurobara:opds:{key}",
        title=title,
        updated=max((card.updated for card in cards), default=now),
        links=[*links, *common_links()],
        entries=[manga_entry(card) for card in cards],
        paging=paging,
    )


def chapter_name(card: ChapterCard, *, with_manga: bool) -> str:
    parts = []
    if card.volume:
        parts.append(f"Vol. {card.volume}")
    if card.number:
        parts.append(f"Ch. {card.number}")
    name = " ".join(parts)
    if card.title:
        name = f"{name} — {card.title}" if name else card.title
    name = name or "Chapter"
    return f"{card.manga_title} · {name}" if with_manga else name


def chapter_links(card: ChapterCard) -> list[Link]:
    href = chapter_href(card.manga_id, card.id)
    links: list[Link] = []
    if card.page_count:
        links.append(
            Link(
                href + STREAM_TEMPLATE,
                atom.REL_STREAM,
                STREAM_TYPE,
                page_count=card.page_count,
                last_read=card.last_page,
            )
        )
    else:
        # The page count is known once the pages were listed: this one-entry feed lists them.
        links.append(Link(href, atom.REL_SUBSECTION, atom.ACQUISITION_TYPE, "Pages"))
    if card.archive:
        links.append(Link(f"{href}/file", atom.REL_ACQUISITION, atom.CBZ_TYPE, "CBZ"))
    return [*links, *_cover_links(card.cover)]


def chapter_entry(card: ChapterCard, *, with_manga: bool) -> Entry:
    notes = ["Read" if card.read else "Unread"]
    if card.page_count:
        notes.append(f"{card.page_count} pages")
    if card.scanlator:
        notes.append(card.scanlator)
    return Entry(
        id=f"urn:kurobara:chapter:{card.id}",
        title=chapter_name(card, with_manga=with_manga),
        updated=card.updated,
        content=" · ".join(notes),
        language=card.language,
        links=chapter_links(card),
    )


def chapter_list(
    *,
    key: str,
    title: str,
    path: str,
    cards: list[ChapterCard],
    total: int,
    page: int,
    now: datetime,
    with_manga: bool,
    summary: str | None = None,
    extra_links: list[Link] | None = None,
) -> Feed:
    links, paging = paging_links(path, page=page, total=total, kind=atom.ACQUISITION_TYPE)
    return Feed(
        id=f"urn:kurobara:opds:{key}",
        title=title,
        subtitle=summary,
        updated=max((card.updated for card in cards), default=now),
        links=[*links, *common_links(), *(extra_links or [])],
        entries=[chapter_entry(card, with_manga=with_manga) for card in cards],
        paging=paging,
    )


def search_description(base_url: str) -> bytes:
    """``base_url`` makes the template absolute: some clients do not resolve a relative one."""
    return atom.opensearch_description(
        short_name="Kurobara",
        description="Search the titles in your Kurobara library",
        template=f"{base_url.rstrip('/')}{ROOT}/search?q={{searchTerms}}",
    )
