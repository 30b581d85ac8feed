"""reader preferences: each user's reading mode and page fit per manga

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kurobara.db.types

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reader_preferences",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("manga_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("fit", sa.String(length=20), nullable=False),
        sa.Column("updated_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["manga_id"], ["manga.id"], name=op.f("fk_reader_preferences_manga_id_manga"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reader_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "manga_id", name=op.f("pk_reader_preferences")),
    )  # fmt: skip
    op.create_index(
        "ix_reader_preferences_user_id_updated_at",
        "reader_preferences",
        ["user_id", "updated_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_reader_preferences_user_id_updated_at", table_name="reader_preferences")
    op.drop_table("reader_preferences")
