"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kurobara.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instance_settings",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_settings")),
    )
    op.create_table(
        "manga",
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("title_key", sa.String(length=500), nullable=False),
        sa.Column("alt_titles", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("cover_image", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("genres", sa.JSON(), nullable=False),
        sa.Column("nsfw", sa.Boolean(), server_default=sa.text("false"), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manga")),
    )
    with op.batch_alter_table("manga", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_manga_title_key"), ["title_key"], unique=False)

    op.create_table(
        "provider_status",
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("provider_name", sa.String(length=100), nullable=False),
        sa.Column("provider_url", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="unknown", nullable=False),
        sa.Column("last_check", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("response_time", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("total_checks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("successful_checks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("uptime_percentage", sa.Integer(), server_default="100", nullable=False),
        sa.Column("is_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("check_interval", sa.Integer(), nullable=True),
        sa.Column("max_consecutive_failures", sa.Integer(), server_default="3", nullable=False),
        sa.Column("error_kind", sa.String(length=30), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("is_registered", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("status_changed_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_status")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_provider_status_provider_id")),
    )
    with op.batch_alter_table("provider_status", schema=None) as batch_op:
        batch_op.create_index("ix_provider_status_next_check_at", ["next_check_at"], unique=False)

    op.create_table(
        "users",
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("username_key", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("email_key", sa.String(length=255), nullable=False),
        sa.Column("hashed_password", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_superuser", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "provider_check_interval", sa.Integer(), server_default=sa.text("60"), nullable=False
        ),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email_key", name=op.f("uq_users_email_key")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        sa.UniqueConstraint("username_key", name=op.f("uq_users_username_key")),
    )
    op.create_table(
        "manga_sources",
        sa.Column("manga_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
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
            ["manga_id"],
            ["manga.id"],
            name=op.f("fk_manga_sources_manga_id_manga"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manga_sources")),
        sa.UniqueConstraint(
            "provider_id", "external_id", name=op.f("uq_manga_sources_provider_id_external_id")
        ),
    )
    with op.batch_alter_table("manga_sources", schema=None) as batch_op:
        batch_op.create_index("ix_manga_sources_manga_id", ["manga_id"], unique=False)

    op.create_table(
        "manga_user_library",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("manga_id", sa.Uuid(), nullable=False),
        sa.Column("is_favorite", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("custom_title", sa.String(length=255), nullable=True),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("favorited_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
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
            ["manga_id"],
            ["manga.id"],
            name=op.f("fk_manga_user_library_manga_id_manga"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_manga_user_library_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manga_user_library")),
        sa.UniqueConstraint(
            "user_id", "manga_id", name=op.f("uq_manga_user_library_user_id_manga_id")
        ),
    )
    with op.batch_alter_table("manga_user_library", schema=None) as batch_op:
        batch_op.create_index("ix_library_manga_id", ["manga_id"], unique=False)
        batch_op.create_index(
            "ix_library_user_fav_created",
            ["user_id", "is_favorite", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_library_user_fav_updated",
            ["user_id", "is_favorite", "updated_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_library_user_updated", ["user_id", "updated_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("manga_user_library", schema=None) as batch_op:
        batch_op.drop_index("ix_library_user_updated")
        batch_op.drop_index("ix_library_user_fav_updated")
        batch_op.drop_index("ix_library_user_fav_created")
        batch_op.drop_index("ix_library_manga_id")

    op.drop_table("manga_user_library")
    with op.batch_alter_table("manga_sources", schema=None) as batch_op:
        batch_op.drop_index("ix_manga_sources_manga_id")

    op.drop_table("manga_sources")
    op.drop_table("users")
    with op.batch_alter_table("provider_status", schema=None) as batch_op:
        batch_op.drop_index("ix_provider_status_next_check_at")

    op.drop_table("provider_status")
    with op.batch_alter_table("manga", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manga_title_key"))

    op.drop_table("manga")
    op.drop_table("instance_settings")
