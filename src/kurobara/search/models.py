"""The ``search_preferences`` table: what a user's searches and browsing show."""

from __future__ import annotations

import uuid

from sqlalchemy import JSON, Boolean, ForeignKey, text
from sqlalchemy.orm import Mapped, mapped_column

from kurobara.db.base import Base


class SearchPreferences(Base):
    """One row per user who changed a default (no row: NSFW hidden, every language)."""

    __tablename__ = "search_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # NSFW providers are not asked and NSFW titles are left out unless this is on.
    show_nsfw: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Language codes of the providers to ask ("en", "ja"...); empty: every language.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
