"""API shapes of reading: chapter lists with the caller's progress, pages, progress writes,
read marks, the history and the reader's layout per manga."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kurobara.library.schemas import MangaSummary
from kurobara.providers.base import Page

MAX_MARK_IDS = 2000


class ChapterRead(BaseModel):
    """One chapter. ``external_id``, ``number`` (text, as the site writes it), ``title``,
    ``volume``, ``language``, ``scanlator``, ``published_at`` and ``url`` are the fields the list
    always had; ``id`` is the stable id every other endpoint takes. ``read`` is also true when
    the chapter of that number was read on another linked source."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    external_id: str
    number: str | None
    number_value: float | None
    title: str | None
    volume: str | None
    language: str | None
    scanlator: str | None
    published_at: datetime | None
    url: str | None
    external_url: str | None = Field(
        description="Set when the chapter is hosted on another site (an official publisher): "
        "it has no pages here; read it there"
    )
    position: int
    page_count: int | None
    first_seen_at: datetime
    removed_at: datetime | None
    read: bool
    last_page: int | None
    # The provider of the source this chapter comes from (lists merge linked sources).
    provider_id: str


class FallbackRead(BaseModel):
    """Another source answers than the one the reader means: ``reason`` (down, disabled,
    unregistered, failed), since when (down), and ``message`` for a banner."""

    model_config = ConfigDict(from_attributes=True)

    provider_id: str
    provider_name: str
    wanted_provider_id: str
    wanted_provider_name: str
    reason: str
    since: datetime | None
    message: str


class ListedSourceRead(BaseModel):
    """A linked source: its provider's status, whether it may be asked now (``usable``),
    whether the caller chose it, and whether it answers this list."""

    model_config = ConfigDict(from_attributes=True)

    source_id: uuid.UUID
    provider_id: str
    provider_name: str
    external_id: str
    provider_status: str | None
    usable: bool
    chosen: bool
    answering: bool


class ChapterListRead(BaseModel):
    """A manga's chapters in provider order (oldest first), from the database. ``stale`` is
    true when the list could not be refreshed as it should have been: the provider is down,
    switched off, gone, or failed (``provider_status``, ``error_kind``, ``error_message``)."""

    model_config = ConfigDict(from_attributes=True)

    manga_id: uuid.UUID
    provider_id: str
    external_id: str
    stale: bool
    provider_status: str | None
    error_kind: str | None
    error_message: str | None
    refreshed_at: datetime | None
    # Set when the answering source is not the wanted one (docs/failover.md).
    fallback: FallbackRead | None = None
    sources: list[ListedSourceRead] = []
    chapters: list[ChapterRead]


class PageListRead(BaseModel):
    manga_id: uuid.UUID
    provider_id: str
    chapter_id: uuid.UUID
    external_id: str
    page_count: int
    pages: list[Page]
    fallback: FallbackRead | None = None


class ProgressUpdate(BaseModel):
    """Body of ``PATCH /chapters/{id}/progress``: ``last_page`` (1-based) and/or ``read``."""

    model_config = ConfigDict(extra="forbid")

    last_page: int | None = Field(default=None, ge=1, le=100_000)
    read: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.last_page is None and self.read is None:
            raise ValueError("send last_page, read, or both")
        return self


class ProgressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    chapter_id: uuid.UUID
    manga_id: uuid.UUID
    last_page: int | None
    read: bool
    read_at: datetime | None
    updated_at: datetime


class MarkRequest(BaseModel):
    """Body of ``POST /manga/{id}/chapters/read``: ``chapter_ids`` with ``read``, or ``up_to``
    (that chapter and every one before it, read)."""

    model_config = ConfigDict(extra="forbid")

    chapter_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=MAX_MARK_IDS)
    read: bool = True
    up_to: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if (self.chapter_ids is None) == (self.up_to is None):
            raise ValueError("send either chapter_ids or up_to")
        if self.up_to is not None and not self.read:
            raise ValueError("up_to marks chapters read; send chapter_ids to mark them unread")
        return self


class MarkResult(BaseModel):
    manga_id: uuid.UUID
    read: bool
    updated: int
    chapter_ids: list[uuid.UUID]


class HistoryChapter(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    external_id: str
    number: str | None = Field(validation_alias="number_text")
    title: str | None
    volume: str | None
    removed_at: datetime | None


class HistoryItemRead(BaseModel):
    chapter_id: uuid.UUID
    manga_id: uuid.UUID
    last_page: int | None
    read: bool
    read_at: datetime
    chapter: HistoryChapter
    manga: MangaSummary


class HistoryQuery(BaseModel):
    page: int = Field(default=1, ge=1, le=1_000_000)
    limit: int = Field(default=20, ge=1, le=100)


class HistoryClearQuery(BaseModel):
    manga_id: uuid.UUID | None = None


ReadingMode = Literal["ltr", "rtl", "vertical"]
PageFit = Literal["width", "height", "original"]


class ReaderPreferencesUpdate(BaseModel):
    """How to lay out this manga in the reader: ``mode`` (paged left to right, paged right to
    left, or one continuous vertical strip) and ``fit`` (page width, page height, or the
    image's own size)."""

    model_config = ConfigDict(extra="forbid")

    mode: ReadingMode
    fit: PageFit


class ReaderPreferencesRead(ReaderPreferencesUpdate):
    """The layout the reader opens this manga in. ``remembered`` is false when nothing was
    chosen for this manga yet: the layout is then the caller's latest choice on another manga
    (or the default, left to right fitted to the height)."""

    model_config = ConfigDict(extra="ignore")

    manga_id: uuid.UUID
    remembered: bool
