"""search evidence and preferences: a provider's failed searches of the current window (passive
outage evidence) and each user's NSFW and language choices for search and browse

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kurobara.db.types

revision: str = "0017"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = ("search_failures_since", "last_search_failure_at")


def upgrade() -> None:
    with op.batch_alter_table("provider_status") as batch:
        batch.add_column(
            sa.Column("search_failures", sa.Integer(), server_default="0", nullable=False)
        )
        for name in _WHEN:
            batch.add_column(
                sa.Column(name, kurobara.db.types.UTCDateTime(timezone=True), nullable=True)
            )
    op.create_table(
        "search_preferences",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("show_nsfw", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_search_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_search_preferences")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("search_preferences")
    with op.batch_alter_table("provider_status") as batch:
        for name in reversed(_WHEN):
            batch.drop_column(name)
        batch.drop_column("search_failures")
