"""reading: chapters as rows, when each source's list was fetched, per-user chapter progress

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kurobara.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = kurobara.db.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "chapters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("manga_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=False),
        sa.Column("number_text", sa.String(length=50), nullable=True),
        sa.Column("number", sa.Float(), nullable=True),
        sa.Column("volume", sa.String(length=50), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("language", sa.String(length=20), nullable=True),
        sa.Column("scanlator", sa.String(length=255), nullable=True),
        sa.Column("published_at", UTC(timezone=True), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", UTC(timezone=True), nullable=False),
        sa.Column("removed_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["manga_id"], ["manga.id"], name=op.f("fk_chapters_manga_id_manga"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["manga_sources.id"],
            name=op.f("fk_chapters_source_id_manga_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chapters")),
        sa.UniqueConstraint(
            "source_id", "external_id", name=op.f("uq_chapters_source_id_external_id")
        ),
    )
    with op.batch_alter_table("chapters", schema=None) as batch_op:
        batch_op.create_index(
            "ix_chapters_manga_id_removed_at_position",
            ["manga_id", "removed_at", "position"],
            unique=False,
        )

    op.create_table(
        "chapter_sync",
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("refreshed_at", UTC(timezone=True), nullable=True),
        sa.Column("attempted_at", UTC(timezone=True), nullable=False),
        sa.Column("error_kind", sa.String(length=30), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["manga_sources.id"],
            name=op.f("fk_chapter_sync_source_id_manga_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_chapter_sync")),
    )

    op.create_table(
        "chapter_progress",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("chapter_id", sa.Uuid(), nullable=False),
        sa.Column("manga_id", sa.Uuid(), nullable=False),
        sa.Column("last_page", sa.Integer(), nullable=True),
        sa.Column("read", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("read_at", UTC(timezone=True), nullable=True),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chapter_id"],
            ["chapters.id"],
            name=op.f("fk_chapter_progress_chapter_id_chapters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["manga_id"],
            ["manga.id"],
            name=op.f("fk_chapter_progress_manga_id_manga"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_chapter_progress_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chapter_progress")),
        sa.UniqueConstraint(
            "user_id", "chapter_id", name=op.f("uq_chapter_progress_user_id_chapter_id")
        ),
    )
    with op.batch_alter_table("chapter_progress", schema=None) as batch_op:
        batch_op.create_index("ix_chapter_progress_chapter_id", ["chapter_id"], unique=False)
        batch_op.create_index(
            "ix_chapter_progress_user_id_manga_id_read_at",
            ["user_id", "manga_id", "read_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_chapter_progress_user_id_read_at", ["user_id", "read_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("chapter_progress")
    op.drop_table("chapter_sync")
    op.drop_table("chapters")
