"""The catalog's tables: fetched community indexes, and the entries admins enabled."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kurobara.db.base import Base


class CatalogIndex(Base):
    """The last fetch of one ``KUROBARA_CATALOG_URLS`` index. ``entries`` holds the definitions
    of the last good fetch (JSON), so a failed refresh keeps the catalog browsable."""

    __tablename__ = "catalog_index"

    url: Mapped[str] = mapped_column(String(1000), primary_key=True)
    # SHA-256 of the last good body, shown on the Sources page.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    entries: Mapped[str] = mapped_column(Text, default="[]")
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    # Entries of the index that did not validate, with the reason (JSON list of strings).
    rejected: Mapped[str] = mapped_column(Text, default="[]")
    fetched_at: Mapped[datetime | None] = mapped_column()
    attempted_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)


class CatalogEnabled(Base):
    """A catalog entry an admin enabled: its definition as it was then (JSON), so that the
    provider stays what the admin chose even if its index changes or goes away."""

    __tablename__ = "catalog_enabled"

    provider_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # "bundled" or the index URL the entry came from.
    origin: Mapped[str] = mapped_column(String(1000))
    definition: Mapped[str] = mapped_column(Text)
    enabled_at: Mapped[datetime] = mapped_column()
    enabled_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
