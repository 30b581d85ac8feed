"""failover: preferred source per user and manga, migration needs and candidates, and the
migration notices outbox

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kurobara.db.types

revision: str = "0018"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "migration_needs",
        sa.Column("manga_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("since", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("found_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("scanned_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("scan_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["manga_id"],
            ["manga.id"],
            name=op.f("fk_migration_needs_manga_id_manga"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("manga_id", name=op.f("pk_migration_needs")),
    )
    op.create_table(
        "migration_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_migration_notices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_migration_notices")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_migration_notices_user_id_key")),
    )
    with op.batch_alter_table("migration_notices", schema=None) as batch_op:
        batch_op.create_index("ix_migration_notices_sent_at", ["sent_at"], unique=False)

    op.create_table(
        "migration_candidates",
        sa.Column("manga_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("cover_image", sa.String(length=1000), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("chapter_count", sa.Integer(), nullable=False),
        sa.Column("latest_chapter", sa.String(length=50), nullable=True),
        sa.Column("latest_number", sa.Float(), nullable=True),
        sa.Column("found_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["manga_id"],
            ["migration_needs.manga_id"],
            name=op.f("fk_migration_candidates_manga_id_migration_needs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_migration_candidates")),
        sa.UniqueConstraint(
            "manga_id",
            "provider_id",
            "external_id",
            name=op.f("uq_migration_candidates_manga_id_provider_id_external_id"),
        ),
    )
    with op.batch_alter_table("migration_candidates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_migration_candidates_manga_id_score", ["manga_id", "score"], unique=False
        )

    op.create_table(
        "source_preferences",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("manga_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("updated_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["manga_id"],
            ["manga.id"],
            name=op.f("fk_source_preferences_manga_id_manga"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["manga_sources.id"],
            name=op.f("fk_source_preferences_source_id_manga_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_source_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "manga_id", name=op.f("pk_source_preferences")),
    )


def downgrade() -> None:
    op.drop_table("source_preferences")
    with op.batch_alter_table("migration_candidates", schema=None) as batch_op:
        batch_op.drop_index("ix_migration_candidates_manga_id_score")

    op.drop_table("migration_candidates")
    with op.batch_alter_table("migration_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_migration_notices_sent_at")

    op.drop_table("migration_notices")
    op.drop_table("migration_needs")
