"""Instance-wide values kept in the database so that every replica sees the same ones
(the JWT signing key when ``KUROBARA_SECRET_KEY`` is not set)."""

from __future__ import annotations

import secrets

from sqlalchemy import String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from kurobara.db.base import Base

SECRET_KEY_NAME = "secret_key"


class InstanceSetting(Base):
    __tablename__ = "instance_settings"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


async def get_or_create_secret(session: AsyncSession, *, name: str = SECRET_KEY_NAME) -> str:
    """Return the stored secret, generating it once. Two replicas racing here agree on one value:
    the loser's insert fails on the primary key and it reads the winner's."""
    existing = await session.scalar(
        select(InstanceSetting.value).where(InstanceSetting.name == name)
    )
    if existing:
        return existing
    try:
        session.add(InstanceSetting(name=name, value=secrets.token_urlsafe(48)))
        await session.commit()
    except IntegrityError:
        await session.rollback()
    value = await session.scalar(select(InstanceSetting.value).where(InstanceSetting.name == name))
    assert value is not None
    return value
