"""The ``users`` table, personal access tokens and invitations."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from kurobara.db.base import Base, TimestampMixin, UUIDPrimaryKey
from kurobara.db.types import utcnow


class User(UUIDPrimaryKey, TimestampMixin, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(32), unique=True)
    # Usernames and emails are unique case-insensitively; the lowered copies carry the constraint.
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(255))
    email_key: Mapped[str] = mapped_column(String(255), unique=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    provider_check_interval: Mapped[int] = mapped_column(
        Integer, default=60, server_default=text("60")
    )


class PersonalToken(UUIDPrimaryKey, Base):
    """A personal access token for scripts and apps. Only the SHA-256 of the secret is kept: the
    secret is shown once, when the token is made; ``prefix`` lets its owner tell tokens apart."""

    __tablename__ = "personal_tokens"
    __table_args__ = (Index("ix_personal_tokens_user_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(10))  # read, write
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()


class Invitation(UUIDPrimaryKey, Base):
    """A one-use link that lets one person register while registration is switched off. Stored
    hashed like a token; ``used_at`` is set by the registration that spends it."""

    __tablename__ = "invitations"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    used_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
