"""monitoring history: raw checks, hourly rollups, status transitions (the notification outbox)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kurobara.db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_check",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("checked_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("response_time", sa.Integer(), nullable=True),
        sa.Column("error_kind", sa.String(length=30), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_check")),
    )
    with op.batch_alter_table("provider_check", schema=None) as batch_op:
        batch_op.create_index("ix_provider_check_checked_at", ["checked_at"], unique=False)
        batch_op.create_index(
            "ix_provider_check_provider_id_checked_at", ["provider_id", "checked_at"], unique=False
        )

    op.create_table(
        "provider_check_hourly",
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("hour", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("successes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("response_ms_sum", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("rt_le_50", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rt_le_100", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rt_le_200", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rt_le_300", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rt_le_500", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rt_le_1000", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rt_le_2000", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rt_le_3000", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rt_le_5000", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rt_le_10000", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rt_le_inf", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("provider_id", "hour", name=op.f("pk_provider_check_hourly")),
    )
    op.create_table(
        "provider_transition",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("provider_name", sa.String(length=100), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("at", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("error_kind", sa.String(length=30), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("notified_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notify_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_transition")),
    )
    with op.batch_alter_table("provider_transition", schema=None) as batch_op:
        batch_op.create_index("ix_provider_transition_notified_at", ["notified_at"], unique=False)
        batch_op.create_index(
            "ix_provider_transition_provider_id_at", ["provider_id", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("provider_transition", schema=None) as batch_op:
        batch_op.drop_index("ix_provider_transition_provider_id_at")
        batch_op.drop_index("ix_provider_transition_notified_at")

    op.drop_table("provider_transition")
    op.drop_table("provider_check_hourly")
    with op.batch_alter_table("provider_check", schema=None) as batch_op:
        batch_op.drop_index("ix_provider_check_provider_id_checked_at")
        batch_op.drop_index("ix_provider_check_checked_at")

    op.drop_table("provider_check")
