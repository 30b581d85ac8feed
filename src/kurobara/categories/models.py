"""The ``library_categories`` table (one user's named, ordered categories) and the link table
putting library entries on them. Removing an entry or a category drops its links."""

from __future__ import annotations

import uuid

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kurobara.db.base import Base, TimestampMixin, UUIDPrimaryKey


class Category(UUIDPrimaryKey, TimestampMixin, Base):
    __tablename__ = "library_categories"
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        Index("ix_library_categories_user_position", "user_id", "position"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    # 0-based place among the user's categories (the Library's tab order).
    position: Mapped[int] = mapped_column(Integer, default=0)


entry_categories = Table(
    "library_entry_categories",
    Base.metadata,
    Column(
        "entry_id",
        ForeignKey("manga_user_library.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "category_id",
        ForeignKey("library_categories.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)
