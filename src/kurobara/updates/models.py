"""The library update tables: runs and their items (one per manga source), the lease and last
outcome of each source, per-provider pauses after a 429, users' notification settings and the
new-chapter notification outbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kurobara.db.base import Base, UUIDPrimaryKey
from kurobara.db.types import utcnow


class UpdateRun(UUIDPrimaryKey, Base):
    """One update of a set of manga sources: a user's library, everyone's (``scope`` all), or
    the sources of one provider that came back. ``active_key`` is unique while the run is going
    (``user:<id>``, ``all``) so a second request joins it; ``dedupe_key`` is unique forever, so a
    scheduled slot or a provider's recovery starts one run however many replicas notice it."""

    __tablename__ = "library_update_runs"
    __table_args__ = (
        Index("ix_library_update_runs_trigger_created_at", "trigger", "created_at"),
        Index("ix_library_update_runs_status_notified_at", "status", "notified_at"),
    )

    trigger: Mapped[str] = mapped_column(String(20))  # manual, scheduled, provider_up
    scope: Mapped[str] = mapped_column(String(10))  # user, all
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="running")  # running, done
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    active_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    # Set when the notifier has turned the run's new chapters into messages (the outbox claim).
    notified_at: Mapped[datetime | None] = mapped_column()


class UpdateItem(Base):
    """One source in one run. Born ``pending``; ``done`` with its outcome. Only the item whose
    refresh found chapters lists them (``new_chapter_ids``); items of other runs resolved by the
    same refresh copy the outcome, so each new chapter is announced once."""

    __tablename__ = "library_update_items"
    __table_args__ = (
        UniqueConstraint("run_id", "source_id"),
        # Progress and "anything left?" of a run; the pending items of a source or provider.
        Index("ix_library_update_items_run_id_status", "run_id", "status"),
        Index("ix_library_update_items_source_id_status", "source_id", "status"),
        Index("ix_library_update_items_provider_id_status", "provider_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("library_update_runs.id", ondelete="CASCADE")
    )
    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manga_sources.id", ondelete="CASCADE"))
    manga_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manga.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, done
    outcome: Mapped[str | None] = mapped_column(String(20))
    new_chapters: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(40))
    error_kind: Mapped[str | None] = mapped_column(String(30))
    error_message: Mapped[str | None] = mapped_column(Text)
    new_chapter_ids: Mapped[list[str] | None] = mapped_column(JSON)
    done_at: Mapped[datetime | None] = mapped_column()


class SourceUpdate(Base):
    """Per manga source: the lease a worker holds while refreshing it (so with several runs and
    replicas each source is fetched once), and its last outcome."""

    __tablename__ = "library_update_sources"
    __table_args__ = (Index("ix_library_update_sources_provider_id", "provider_id"),)

    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("manga_sources.id", ondelete="CASCADE"), primary_key=True
    )
    manga_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manga.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(100))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(20))
    new_chapters: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(40))
    error_kind: Mapped[str | None] = mapped_column(String(30))
    error_message: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[uuid.UUID | None] = mapped_column()
    outcome_at: Mapped[datetime | None] = mapped_column()


class ProviderPause(Base):
    """A provider answered 429: no replica starts its updates before ``paused_until``."""

    __tablename__ = "library_update_pauses"

    provider_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    paused_until: Mapped[datetime] = mapped_column()


class NotificationSettings(Base):
    """A user's new-chapter notifications: Apprise URLs and which manga count."""

    __tablename__ = "notification_settings"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(20), default="off")  # favorites, library, off
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class UpdateNotification(Base):
    """One message to one user about one run (the outbox). A sender leases it with a
    conditional UPDATE; ``sent_at`` marks it delivered; a failure counts ``attempts`` and waits
    until ``next_attempt_at``."""

    __tablename__ = "update_notifications"
    __table_args__ = (
        UniqueConstraint("run_id", "user_id"),
        Index("ix_update_notifications_sent_at_next_attempt_at", "sent_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("library_update_runs.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    chapters: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
