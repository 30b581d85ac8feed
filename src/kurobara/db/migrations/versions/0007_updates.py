"""updates: library update runs and items, source leases and last outcomes, 429 pauses,
notification settings and the new-chapter outbox

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kurobara.db.types

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "library_update_pauses",
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("paused_until", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_library_update_pauses")),
    )
    op.create_table(
        "library_update_runs",
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("active_key", sa.String(length=120), nullable=True),
        sa.Column("dedupe_key", sa.String(length=120), nullable=True),
        sa.Column("notified_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_library_update_runs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_update_runs")),
        sa.UniqueConstraint("active_key", name=op.f("uq_library_update_runs_active_key")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_library_update_runs_dedupe_key")),
    )
    with op.batch_alter_table("library_update_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_library_update_runs_status_notified_at", ["status", "notified_at"], unique=False
        )
        batch_op.create_index(
            "ix_library_update_runs_trigger_created_at", ["trigger", "created_at"], unique=False
        )

    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("urls", sa.JSON(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("updated_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_settings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_settings")),
    )
    op.create_table(
        "library_update_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("manga_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("new_chapters", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("error_kind", sa.String(length=30), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("new_chapter_ids", sa.JSON(), nullable=True),
        sa.Column("done_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["manga_id"],
            ["manga.id"],
            name=op.f("fk_library_update_items_manga_id_manga"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["library_update_runs.id"],
            name=op.f("fk_library_update_items_run_id_library_update_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["manga_sources.id"],
            name=op.f("fk_library_update_items_source_id_manga_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_update_items")),
        sa.UniqueConstraint(
            "run_id", "source_id", name=op.f("uq_library_update_items_run_id_source_id")
        ),
    )
    with op.batch_alter_table("library_update_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_library_update_items_provider_id_status", ["provider_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_library_update_items_run_id_status", ["run_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_library_update_items_source_id_status", ["source_id", "status"], unique=False
        )

    op.create_table(
        "library_update_sources",
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("manga_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("new_chapters", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("error_kind", sa.String(length=30), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("outcome_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["manga_id"],
            ["manga.id"],
            name=op.f("fk_library_update_sources_manga_id_manga"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["manga_sources.id"],
            name=op.f("fk_library_update_sources_source_id_manga_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_library_update_sources")),
    )
    with op.batch_alter_table("library_update_sources", schema=None) as batch_op:
        batch_op.create_index(
            "ix_library_update_sources_provider_id", ["provider_id"], unique=False
        )

    op.create_table(
        "update_notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("chapters", sa.Integer(), nullable=False),
        sa.Column("created_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["library_update_runs.id"],
            name=op.f("fk_update_notifications_run_id_library_update_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_update_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_notifications")),
        sa.UniqueConstraint(
            "run_id", "user_id", name=op.f("uq_update_notifications_run_id_user_id")
        ),
    )
    with op.batch_alter_table("update_notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_update_notifications_sent_at_next_attempt_at",
            ["sent_at", "next_attempt_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("update_notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_update_notifications_sent_at_next_attempt_at")

    op.drop_table("update_notifications")
    with op.batch_alter_table("library_update_sources", schema=None) as batch_op:
        batch_op.drop_index("ix_library_update_sources_provider_id")

    op.drop_table("library_update_sources")
    with op.batch_alter_table("library_update_items", schema=None) as batch_op:
        batch_op.drop_index("ix_library_update_items_source_id_status")
        batch_op.drop_index("ix_library_update_items_run_id_status")
        batch_op.drop_index("ix_library_update_items_provider_id_status")

    op.drop_table("library_update_items")
    op.drop_table("notification_settings")
    with op.batch_alter_table("library_update_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_library_update_runs_trigger_created_at")
        batch_op.drop_index("ix_library_update_runs_status_notified_at")

    op.drop_table("library_update_runs")
    op.drop_table("library_update_pauses")
