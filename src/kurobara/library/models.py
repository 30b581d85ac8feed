"""The ``manga_user_library`` table: one row per (user, manga); favorites are a flag on it.
Beside it: the per-user counters the database keeps for it, and the favorites import jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kurobara.categories.models import Category, entry_categories
from kurobara.db.base import Base, TimestampMixin, UUIDPrimaryKey
from kurobara.manga.models import Manga


class LibraryEntry(UUIDPrimaryKey, TimestampMixin, Base):
    __tablename__ = "manga_user_library"
    __table_args__ = (
        UniqueConstraint("user_id", "manga_id"),
        # Serve the favorites list, count and status queries: filter by user and flag, order by
        # a sort key with id as the tie-breaker.
        Index("ix_library_user_fav_updated", "user_id", "is_favorite", "updated_at", "id"),
        Index("ix_library_user_fav_created", "user_id", "is_favorite", "created_at", "id"),
        Index("ix_library_user_updated", "user_id", "updated_at", "id"),
        Index("ix_library_manga_id", "manga_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    manga_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manga.id", ondelete="CASCADE"))
    is_favorite: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    custom_title: Mapped[str | None] = mapped_column(String(255))
    # Lower-cased custom title (like ``Manga.title_key``): search and sort use what the user sees.
    custom_title_key: Mapped[str | None] = mapped_column(String(255))
    rating: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)
    favorited_at: Mapped[datetime | None] = mapped_column()

    manga: Mapped[Manga] = relationship(lazy="raise")
    # Loaded by ``service.with_manga`` (one more query per page), in tab order.
    categories: Mapped[list[Category]] = relationship(
        secondary=entry_categories, lazy="raise", order_by=Category.position, viewonly=True
    )


class ImportJob(UUIDPrimaryKey, TimestampMixin, Base):
    """A favorites import too large to answer inline, worked off in chunks by whichever
    process claims it (``library/jobs.py``). Counters move in the transaction that records
    each chunk, so progress read by any replica is exact."""

    __tablename__ = "favorites_import_job"
    __table_args__ = (Index("ix_favorites_import_job_status_updated_at", "status", "updated_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # queued (nothing fetched yet), running, done
    status: Mapped[str] = mapped_column(String(20), default="queued")
    total: Mapped[int] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    already_present: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class ImportJobItem(Base):
    """One item of an import job: its outcome once known; ``payload`` (the export's item)
    while it still waits for its provider."""

    __tablename__ = "favorites_import_item"

    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("favorites_import_job.id", ondelete="CASCADE"), primary_key=True
    )
    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str | None] = mapped_column(String(500))
    # NULL while pending; then imported, already_present or failed
    status: Mapped[str | None] = mapped_column(String(20))
    # Not a foreign key: the report keeps naming a manga removed from the catalog since.
    manga_id: Mapped[uuid.UUID | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class LibraryCounter(Base):
    """Per-user entry and favorite counts, kept by database triggers on
    ``manga_user_library`` (migration 0005) in the same transaction as every write — including
    the cascade when a manga leaves the catalog — so counts cost one row read."""

    __tablename__ = "library_counter"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    entries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    favorites: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
