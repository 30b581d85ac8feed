"""catalog: fetched community indexes and the catalog entries admins enabled

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kurobara.db.types import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_index",
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("entries", sa.Text(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Text(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=True),
        sa.Column("attempted_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_catalog_index")),
    )
    op.create_table(
        "catalog_enabled",
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.String(length=1000), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("enabled_at", UTCDateTime(), nullable=False),
        sa.Column("enabled_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enabled_by"], ["users.id"], name=op.f("fk_catalog_enabled_enabled_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_catalog_enabled")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("catalog_enabled")
    op.drop_table("catalog_index")
