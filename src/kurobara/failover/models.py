"""The failover tables: each user's preferred source per manga, the manga that need another
source (``migration_needs``) with the candidates found for them, and the migration notices
outbox (one message per user and outage)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kurobara.db.base import Base, UUIDPrimaryKey
from kurobara.db.types import utcnow


class SourcePreference(Base):
    """The source a user chose to read a manga from (the Manga page's "Read from")."""

    __tablename__ = "source_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    manga_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("manga.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manga_sources.id", ondelete="CASCADE"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MigrationNeed(Base):
    """A manga in someone's library whose every source is on a dead provider (down too long,
    disabled or removed): ``provider_id`` and ``reason`` of the first of them, since when, and
    when candidates were last searched for (``scanned_at`` NULL: not yet)."""

    __tablename__ = "migration_needs"

    manga_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("manga.id", ondelete="CASCADE"), primary_key=True
    )
    provider_id: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(20))
    # The start of the outage (the provider's status change) or when the need was first seen.
    since: Mapped[datetime] = mapped_column()
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    scanned_at: Mapped[datetime | None] = mapped_column()
    scan_error: Mapped[str | None] = mapped_column(Text)


class MigrationCandidate(UUIDPrimaryKey, Base):
    """A listing on a healthy provider that may be the same series, with what ranking and the
    Migrate page show."""

    __tablename__ = "migration_candidates"
    __table_args__ = (
        UniqueConstraint("manga_id", "provider_id", "external_id"),
        Index("ix_migration_candidates_manga_id_score", "manga_id", "score"),
    )

    manga_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("migration_needs.manga_id", ondelete="CASCADE")
    )
    provider_id: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500))
    cover_image: Mapped[str | None] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(String(1000))
    year: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    chapter_count: Mapped[int] = mapped_column(Integer, default=0)
    latest_chapter: Mapped[str | None] = mapped_column(String(50))
    latest_number: Mapped[float | None] = mapped_column(Float)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)


class MigrationNotice(Base):
    """The outbox: one message to one user about one outage (``key``: provider and since), born
    with ``sent_at`` NULL; a sender leases it with a conditional UPDATE and marks it sent."""

    __tablename__ = "migration_notices"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_migration_notices_sent_at", "sent_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
