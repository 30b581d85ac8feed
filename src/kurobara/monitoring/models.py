"""The ``provider_status`` table: the seed's columns, plus what the scheduler needs to claim
due checks safely across replicas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from kurobara.db.base import Base, TimestampMixin, UUIDPrimaryKey


class ProviderStatus(UUIDPrimaryKey, TimestampMixin, Base):
    __tablename__ = "provider_status"
    __table_args__ = (Index("ix_provider_status_next_check_at", "next_check_at"),)

    # The seed's columns
    provider_id: Mapped[str] = mapped_column(String(100), unique=True)
    provider_name: Mapped[str] = mapped_column(String(100))
    provider_url: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="unknown", server_default="unknown")
    # NULL until a check completes: the seed's DEFAULT NOW() would claim a check that never ran.
    last_check: Mapped[datetime | None] = mapped_column()
    response_time: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total_checks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    successful_checks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    uptime_percentage: Mapped[int] = mapped_column(Integer, default=100, server_default="100")
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # NULL: no admin override, the users' preferences decide (docs/monitoring.md).
    check_interval: Mapped[int | None] = mapped_column(Integer)
    max_consecutive_failures: Mapped[int] = mapped_column(Integer, default=3, server_default="3")

    # Ours
    error_kind: Mapped[str | None] = mapped_column(String(30))
    http_status: Mapped[int | None] = mapped_column(Integer)
    is_registered: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    status_changed_at: Mapped[datetime | None] = mapped_column()
    next_check_at: Mapped[datetime | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
