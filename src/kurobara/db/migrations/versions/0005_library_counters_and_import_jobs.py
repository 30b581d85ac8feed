"""library: per-user counters kept by triggers, favorites import jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kurobara.db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The counters move in the transaction of every write to manga_user_library, including the
# cascade when a manga is deleted. Deletes and updates only UPDATE the counter row (it exists
# from the entry's insert or the backfill): when a user is deleted, the cascade may already
# have removed it, and re-inserting it would violate its foreign key.
POSTGRES_FUNCTIONS = (
    """
    CREATE FUNCTION library_counter_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO library_counter AS c (user_id, entries, favorites)
      VALUES (NEW.user_id, 1, CASE WHEN NEW.is_favorite THEN 1 ELSE 0 END)
      ON CONFLICT (user_id) DO UPDATE
        SET entries = c.entries + 1, favorites = c.favorites + EXCLUDED.favorites;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION library_counter_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE library_counter
        SET favorites = favorites + CASE WHEN NEW.is_favorite THEN 1 ELSE -1 END
        WHERE user_id = NEW.user_id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION library_counter_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE library_counter
        SET entries = entries - 1,
            favorites = favorites - CASE WHEN OLD.is_favorite THEN 1 ELSE 0 END
        WHERE user_id = OLD.user_id;
      RETURN NULL;
    END $$
    """,
)
POSTGRES_TRIGGERS = (
    "CREATE TRIGGER library_counter_insert AFTER INSERT ON manga_user_library "
    "FOR EACH ROW EXECUTE FUNCTION library_counter_on_insert()",
    "CREATE TRIGGER library_counter_update AFTER UPDATE OF is_favorite ON manga_user_library "
    "FOR EACH ROW WHEN (OLD.is_favorite IS DISTINCT FROM NEW.is_favorite) "
    "EXECUTE FUNCTION library_counter_on_update()",
    "CREATE TRIGGER library_counter_delete AFTER DELETE ON manga_user_library "
    "FOR EACH ROW EXECUTE FUNCTION library_counter_on_delete()",
)
SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER library_counter_insert AFTER INSERT ON manga_user_library
    BEGIN
      INSERT OR IGNORE INTO library_counter (user_id, entries, favorites)
        VALUES (NEW.user_id, 0, 0);
      UPDATE library_counter
        SET entries = entries + 1, favorites = favorites + NEW.is_favorite
        WHERE user_id = NEW.user_id;
    END
    """,
    """
    CREATE TRIGGER library_counter_update AFTER UPDATE OF is_favorite ON manga_user_library
    WHEN OLD.is_favorite IS NOT NEW.is_favorite
    BEGIN
      UPDATE library_counter
        SET favorites = favorites + CASE WHEN NEW.is_favorite THEN 1 ELSE -1 END
        WHERE user_id = NEW.user_id;
    END
    """,
    """
    CREATE TRIGGER library_counter_delete AFTER DELETE ON manga_user_library
    BEGIN
      UPDATE library_counter
        SET entries = entries - 1, favorites = favorites - OLD.is_favorite
        WHERE user_id = OLD.user_id;
    END
    """,
)
BACKFILL = """
    INSERT INTO library_counter (user_id, entries, favorites)
    SELECT user_id, COUNT(*), SUM(CASE WHEN is_favorite THEN 1 ELSE 0 END)
    FROM manga_user_library GROUP BY user_id
"""
TRIGGERS = ("library_counter_insert", "library_counter_update", "library_counter_delete")
FUNCTIONS = ("library_counter_on_insert", "library_counter_on_update", "library_counter_on_delete")


def _timestamps() -> list[sa.Column[object]]:
    return [
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
    ]


def upgrade() -> None:
    op.create_table(
        "library_counter",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("entries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("favorites", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_library_counter_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_library_counter")),
    )
    op.execute(BACKFILL)
    if op.get_bind().dialect.name == "postgresql":
        for statement in (*POSTGRES_FUNCTIONS, *POSTGRES_TRIGGERS):
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)

    op.create_table(
        "favorites_import_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("already_present", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", kurobara.db.types.UTCDateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_favorites_import_job_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_favorites_import_job")),
    )
    op.create_index(
        "ix_favorites_import_job_status_updated_at",
        "favorites_import_job",
        ["status", "updated_at"],
    )
    op.create_index(op.f("ix_favorites_import_job_user_id"), "favorites_import_job", ["user_id"])
    op.create_table(
        "favorites_import_item",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("manga_id", sa.Uuid(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["favorites_import_job.id"],
            name=op.f("fk_favorites_import_item_job_id_favorites_import_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "index", name=op.f("pk_favorites_import_item")),
    )


def downgrade() -> None:
    op.drop_table("favorites_import_item")
    op.drop_index(op.f("ix_favorites_import_job_user_id"), table_name="favorites_import_job")
    op.drop_index("ix_favorites_import_job_status_updated_at", table_name="favorites_import_job")
    op.drop_table("favorites_import_job")
    postgres = op.get_bind().dialect.name == "postgresql"
    for trigger in TRIGGERS:
        op.execute(
            f"DROP TRIGGER {trigger} ON manga_user_library"
            if postgres
            else f"DROP TRIGGER {trigger}"
        )
    if postgres:
        for function in FUNCTIONS:
            op.execute(f"DROP FUNCTION {function}()")
    op.drop_table("library_counter")
