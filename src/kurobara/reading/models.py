"""The reading tables: ``chapters`` (a source's chapter list, kept as rows), ``chapter_sync``
(when each source's list was last fetched and how that went), ``chapter_progress`` (what
each user read) and ``reader_preferences`` (how each user reads each manga)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kurobara.db.base import Base, UUIDPrimaryKey
from kurobara.db.types import utcnow


class StoredChapter(UUIDPrimaryKey, Base):
    """One chapter of one manga source. Rows are never deleted when the site stops listing a
    chapter: ``removed_at`` says since when it is gone, so progress and history stay whole."""

    __tablename__ = "chapters"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        # Chapter lists and unread counts: a manga's present chapters in provider order.
        Index("ix_chapters_manga_id_removed_at_position", "manga_id", "removed_at", "position"),
    )

    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manga_sources.id", ondelete="CASCADE"))
    # Denormalised from the source, so per-manga queries need no join.
    manga_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manga.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(500))
    # The site's number as text ("10.5") and as a float for sorting and "up to" comparisons.
    number_text: Mapped[str | None] = mapped_column(String(50))
    number: Mapped[float | None] = mapped_column(Float)
    volume: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(20))
    scanlator: Mapped[str | None] = mapped_column(String(255))
    published_at: Mapped[datetime | None] = mapped_column()
    url: Mapped[str | None] = mapped_column(String(1000))
    # A chapter the source only links to (an official publisher's reader): no pages here.
    external_url: Mapped[str | None] = mapped_column(String(1000))
    # Index in the provider's list (oldest first); the stable sort of a chapter list.
    position: Mapped[int] = mapped_column(Integer)
    # Known once the pages were fetched; lets "the last page was reached" mean "read".
    page_count: Mapped[int | None] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column()


class ChapterSync(Base):
    """The last fetch of one source's chapter list: when it last succeeded (the age the cache
    setting is measured against, shared by every replica) and the last failure."""

    __tablename__ = "chapter_sync"

    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("manga_sources.id", ondelete="CASCADE"), primary_key=True
    )
    refreshed_at: Mapped[datetime | None] = mapped_column()
    attempted_at: Mapped[datetime] = mapped_column()
    error_kind: Mapped[str | None] = mapped_column(String(30))
    error_message: Mapped[str | None] = mapped_column(Text)


class ChapterProgress(UUIDPrimaryKey, Base):
    """One user's progress in one chapter. ``read_at`` is when the user last read in it (the
    history); clearing the history empties it and keeps ``read`` and ``last_page``."""

    __tablename__ = "chapter_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "chapter_id"),
        Index("ix_chapter_progress_user_id_manga_id_read_at", "user_id", "manga_id", "read_at"),
        Index("ix_chapter_progress_user_id_read_at", "user_id", "read_at"),
        Index("ix_chapter_progress_chapter_id", "chapter_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chapter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"))
    manga_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manga.id", ondelete="CASCADE"))
    last_page: Mapped[int | None] = mapped_column(Integer)
    read: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    read_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReaderPreference(Base):
    """How one user reads one manga: the reading mode (``ltr``, ``rtl``, ``vertical``) and the
    page fit (``width``, ``height``, ``original``). The most recent row is also where a manga
    the user never opened starts."""

    __tablename__ = "reader_preferences"
    __table_args__ = (Index("ix_reader_preferences_user_id_updated_at", "user_id", "updated_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    manga_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("manga.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(20))
    fit: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
