"""categories: a user's ordered categories, the entries on them, and the custom-title key the
library searches and sorts on

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kurobara.db.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "library_categories",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            kurobara.db.types.UTCDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            kurobara.db.types.UTCDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_library_categories_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_categories")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_library_categories_user_id_name")),
    )
    op.create_index(
        "ix_library_categories_user_position", "library_categories", ["user_id", "position"]
    )
    op.create_table(
        "library_entry_categories",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["library_categories.id"],
            name=op.f("fk_library_entry_categories_category_id_library_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["manga_user_library.id"],
            name=op.f("fk_library_entry_categories_entry_id_manga_user_library"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "entry_id", "category_id", name=op.f("pk_library_entry_categories")
        ),
    )
    op.create_index(
        op.f("ix_library_entry_categories_category_id"),
        "library_entry_categories",
        ["category_id"],
    )
    # A plain ADD COLUMN on both backends: a batch copy of the table on SQLite would drop the
    # counter triggers of 0005.
    op.add_column(
        "manga_user_library", sa.Column("custom_title_key", sa.String(length=255), nullable=True)
    )
    _backfill_title_keys()


def _backfill_title_keys() -> None:
    # Lower-cased in Python, the way the application writes the key (SQLite's lower() only
    # knows ASCII).
    bind = op.get_bind()
    library = sa.table(
        "manga_user_library",
        sa.column("id", sa.Uuid()),
        sa.column("custom_title", sa.String()),
        sa.column("custom_title_key", sa.String()),
    )
    rows = bind.execute(
        sa.select(library.c.id, library.c.custom_title).where(library.c.custom_title.is_not(None))
    ).all()
    for row in rows:
        bind.execute(
            library.update()
            .where(library.c.id == row.id)
            .values(custom_title_key=row.custom_title.lower())
        )


def downgrade() -> None:
    op.drop_column("manga_user_library", "custom_title_key")
    op.drop_index(
        op.f("ix_library_entry_categories_category_id"), table_name="library_entry_categories"
    )
    op.drop_table("library_entry_categories")
    op.drop_index("ix_library_categories_user_position", table_name="library_categories")
    op.drop_table("library_categories")
