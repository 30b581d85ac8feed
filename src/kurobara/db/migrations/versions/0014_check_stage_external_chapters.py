"""check stage and external chapters: which stage of a health probe failed, beside the error
kind; a chapter hosted on another site (MangaDex ``externalUrl``)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider_status") as batch:
        batch.add_column(sa.Column("stage", sa.String(length=20), nullable=True))
    with op.batch_alter_table("provider_check") as batch:
        batch.add_column(sa.Column("stage", sa.String(length=20), nullable=True))
    with op.batch_alter_table("chapters") as batch:
        batch.add_column(sa.Column("external_url", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chapters") as batch:
        batch.drop_column("external_url")
    with op.batch_alter_table("provider_check") as batch:
        batch.drop_column("stage")
    with op.batch_alter_table("provider_status") as batch:
        batch.drop_column("stage")
