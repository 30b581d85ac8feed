"""The ``image_preferences`` table: how a user wants page images served."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, text
from sqlalchemy.orm import Mapped, mapped_column

from kurobara.db.base import Base


class ImagePreferences(Base):
    """One row per user who changed a default."""

    __tablename__ = "image_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # MangaDex's compressed page images ("data-saver") instead of the originals.
    data_saver: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
