"""The download tables: ``chapter_downloads`` (one per chapter: the file on disk and the work of
making it, leased by a Downloader), ``download_requests`` (who asked for it) and
``download_rules`` (a user's "download new chapters of my favorites" switch).

A chapter's file is shared: two users downloading the same chapter get one CBZ and one fetch.
Each user sees and deletes only their own requests; the file goes when the last request does.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from kurobara.db.base import Base, UUIDPrimaryKey
from kurobara.db.types import utcnow


class ChapterDownload(Base):
    """One chapter's download: ``queued`` -> ``running`` (leased) -> ``done``; ``waiting`` while
    its provider may not be asked (``reason`` says why), ``failed`` after too many failures."""

    __tablename__ = "chapter_downloads"
    __table_args__ = (
        Index("ix_chapter_downloads_state_next_attempt_at", "state", "next_attempt_at"),
    )

    chapter_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("chapters.id", ondelete="CASCADE"), primary_key=True
    )
    manga_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manga.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=sql_text("0"))
    pages_done: Mapped[int] = mapped_column(Integer, default=0, server_default=sql_text("0"))
    page_count: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()


class DownloadRequest(UUIDPrimaryKey, Base):
    """One user's wish to have one chapter offline (the queue entry they see and delete)."""

    __tablename__ = "download_requests"
    __table_args__ = (
        UniqueConstraint("user_id", "chapter_id"),
        Index("ix_download_requests_chapter_id", "chapter_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chapter_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("chapter_downloads.chapter_id", ondelete="CASCADE")
    )
    manga_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manga.id", ondelete="CASCADE"))
    # "user" (asked for it) or "rule" (queued by the auto-download rule).
    origin: Mapped[str] = mapped_column(String(10), default="user", server_default="user")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DownloadRule(Base):
    """A user's auto-download switch: new chapters of their favorites are queued when a library
    update finds them."""

    __tablename__ = "download_rules"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    favorites_new_chapters: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sql_text("false")
    )
