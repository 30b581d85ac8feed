"""A user's image preferences (``data_saver``), read when a chapter's pages are listed."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.images.models import ImagePreferences


async def get_preferences(*, db_session: AsyncSession, user_id: uuid.UUID) -> ImagePreferences:
    """The user's preferences, the defaults when they never changed one."""
    found = await db_session.scalar(
        select(ImagePreferences).where(ImagePreferences.user_id == user_id)
    )
    return found or ImagePreferences(user_id=user_id, data_saver=False)


async def set_preferences(
    *, db_session: AsyncSession, user_id: uuid.UUID, data_saver: bool
) -> ImagePreferences:
    # Both dialects' INSERT has ON CONFLICT DO UPDATE.
    insert = (
        postgresql.insert if db_session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    statement = insert(ImagePreferences).values(user_id=user_id, data_saver=data_saver)
    await db_session.execute(
        statement.on_conflict_do_update(
            index_elements=[ImagePreferences.user_id], set_={"data_saver": data_saver}
        )
    )
    await db_session.commit()
    return ImagePreferences(user_id=user_id, data_saver=data_saver)
