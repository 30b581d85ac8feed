"""notification retries: attempts, backoff, a send lease and the channels already delivered

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kurobara.db.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = ("last_attempt_at", "next_attempt_at", "send_lease_until", "gave_up_at")


def upgrade() -> None:
    with op.batch_alter_table("provider_transition") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        for name in _WHEN:
            batch.add_column(
                sa.Column(name, kurobara.db.types.UTCDateTime(timezone=True), nullable=True)
            )
        batch.add_column(sa.Column("delivered", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("provider_transition") as batch:
        batch.drop_column("delivered")
        for name in reversed(_WHEN):
            batch.drop_column(name)
        batch.drop_column("attempts")
