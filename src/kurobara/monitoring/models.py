"""The ``provider_status`` table: the seed's columns, plus what the scheduler needs to claim
due checks safely across replicas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from kurobara.db.base import Base, TimestampMixin, UUIDPrimaryKey
from kurobara.monitoring.rules import RESPONSE_BUCKETS_MS


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
    # The stage of the last check that failed (``providers/probe.py``); NULL after a success.
    stage: Mapped[str | None] = mapped_column(String(20))
    is_registered: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    status_changed_at: Mapped[datetime | None] = mapped_column()
    next_check_at: Mapped[datetime | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    # Failed searches of the current window (``rules.add_search_failure``): passive evidence,
    # cleared by a successful check.
    search_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    search_failures_since: Mapped[datetime | None] = mapped_column()
    last_search_failure_at: Mapped[datetime | None] = mapped_column()


# One column per response-time bucket of ``rules.RESPONSE_BUCKETS_MS`` (the last open-ended):
# fixed columns rather than JSON so that an upsert can add to each bucket atomically.
BUCKET_COLUMNS: tuple[str, ...] = (*(f"rt_le_{b}" for b in RESPONSE_BUCKETS_MS), "rt_le_inf")


class ProviderCheck(Base):
    """One completed check (raw history, kept ``history_retention_days``)."""

    __tablename__ = "provider_check"
    __table_args__ = (
        Index("ix_provider_check_provider_id_checked_at", "provider_id", "checked_at"),
        Index("ix_provider_check_checked_at", "checked_at"),
    )

    # BIGINT on PostgreSQL (a busy instance writes millions of checks); SQLite's rowid alias
    # must be spelled INTEGER to autoincrement.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    provider_id: Mapped[str] = mapped_column(String(100))
    checked_at: Mapped[datetime] = mapped_column()
    ok: Mapped[bool] = mapped_column(Boolean)
    response_time: Mapped[int | None] = mapped_column(Integer)
    error_kind: Mapped[str | None] = mapped_column(String(30))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    # Where a failed check failed: health, search, details, chapters, pages, image.
    stage: Mapped[str | None] = mapped_column(String(20))
    # Why the check ran: "scheduled" (the scheduler, start-up sweep and early checks after a
    # failed search included), "manual" (Test now, ``kurobara providers check``).
    trigger: Mapped[str] = mapped_column(String(20), default="scheduled")


class ProviderCheckHourly(Base):
    """Checks of one provider in one UTC hour, added to as checks land (kept
    ``rollup_retention_days``). Uptime windows and percentiles are read from here."""

    __tablename__ = "provider_check_hourly"

    provider_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    checks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    successes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    response_ms_sum: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    rt_le_50: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rt_le_100: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rt_le_200: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rt_le_300: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rt_le_500: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rt_le_1000: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rt_le_2000: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rt_le_3000: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rt_le_5000: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rt_le_10000: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rt_le_inf: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def buckets(self) -> list[int]:
        return [getattr(self, name) for name in BUCKET_COLUMNS]


class ProviderTransition(Base):
    """A status change (``active -> down``...), and the notification outbox: a row with
    ``notified_at`` NULL is still to be sent; a sender claims it with a conditional UPDATE."""

    __tablename__ = "provider_transition"
    __table_args__ = (
        Index("ix_provider_transition_provider_id_at", "provider_id", "at"),
        Index("ix_provider_transition_notified_at", "notified_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_id: Mapped[str] = mapped_column(String(100))
    provider_name: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column()
    error_kind: Mapped[str | None] = mapped_column(String(30))
    error_message: Mapped[str | None] = mapped_column(Text)
    # Transitions nobody is told about (unknown -> active) are born notified.
    notified_at: Mapped[datetime | None] = mapped_column()
    # The last failed attempt's error (kept after a later success, for the record).
    notify_error: Mapped[str | None] = mapped_column(Text)
    # Retries (``notifications.py``): attempts so far, when the next may run, the lease of the
    # sender trying now, channels that already accepted it, and when retrying was given up.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    send_lease_until: Mapped[datetime | None] = mapped_column()
    delivered: Mapped[str | None] = mapped_column(Text)
    gave_up_at: Mapped[datetime | None] = mapped_column()
