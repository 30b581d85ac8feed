"""The ``manga_user_library`` table: one row per (user, manga); favorites are a flag on it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    rating: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)
    favorited_at: Mapped[datetime | None] = mapped_column()

    manga: Mapped[Manga] = relationship(lazy="raise")
