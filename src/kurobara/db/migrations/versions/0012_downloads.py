"""downloads: chapter files (leased work), users' download requests, auto-download rules

Revision ID: 0012
Revises: 0017
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kurobara.db.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chapter_downloads",
        sa.Column("chapter_id", sa.Uuid(), nullable=False),
        sa.Column("manga_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("pages_done", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["chapter_id"], ["chapters.id"], name=op.f("fk_chapter_downloads_chapter_id_chapters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["manga_id"], ["manga.id"], name=op.f("fk_chapter_downloads_manga_id_manga"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chapter_id", name=op.f("pk_chapter_downloads")),
    )  # fmt: skip
    op.create_index(
        "ix_chapter_downloads_state_next_attempt_at",
        "chapter_downloads",
        ["state", "next_attempt_at"],
    )
    op.create_table(
        "download_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("chapter_id", sa.Uuid(), nullable=False),
        sa.Column("manga_id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=10), server_default="user", nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_download_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["chapter_id"], ["chapter_downloads.chapter_id"],
            name=op.f("fk_download_requests_chapter_id_chapter_downloads"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["manga_id"], ["manga.id"], name=op.f("fk_download_requests_manga_id_manga"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download_requests")),
        sa.UniqueConstraint(
            "user_id", "chapter_id", name=op.f("uq_download_requests_user_id_chapter_id")
        ),
    )  # fmt: skip
    op.create_index("ix_download_requests_chapter_id", "download_requests", ["chapter_id"])
    op.create_table(
        "download_rules",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "favorites_new_chapters", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_download_rules_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_download_rules")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("download_rules")
    op.drop_index("ix_download_requests_chapter_id", table_name="download_requests")
    op.drop_table("download_requests")
    op.drop_index("ix_chapter_downloads_state_next_attempt_at", table_name="chapter_downloads")
    op.drop_table("chapter_downloads")
