"""The catalog tables: ``manga`` and ``manga_sources`` (where a manga comes from)."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kurobara.db.base import Base, TimestampMixin, UUIDPrimaryKey
from kurobara.images.links import manga_cover_link


class Manga(UUIDPrimaryKey, TimestampMixin, Base):
    __tablename__ = "manga"

    title: Mapped[str] = mapped_column(String(500))
    # Lower-cased title, for case-insensitive search and sort that use an index on both backends.
    title_key: Mapped[str] = mapped_column(String(500), index=True)
    alt_titles: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text)
    cover_image: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str | None] = mapped_column(String(30))
    year: Mapped[int | None] = mapped_column(Integer)
    genres: Mapped[list[str]] = mapped_column(JSON, default=list)
    nsfw: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    sources: Mapped[list[MangaSource]] = relationship(
        back_populates="manga", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def cover_url(self) -> str | None:
        """The cover through this server's image proxy (``kurobara.images.links``); the
        source's own address stays in ``cover_image``."""
        return manga_cover_link(self)


class MangaSource(UUIDPrimaryKey, TimestampMixin, Base):
    __tablename__ = "manga_sources"
    __table_args__ = (
        UniqueConstraint("provider_id", "external_id"),
        Index("ix_manga_sources_manga_id", "manga_id"),
    )

    manga_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manga.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(1000))

    manga: Mapped[Manga] = relationship(back_populates="sources")
