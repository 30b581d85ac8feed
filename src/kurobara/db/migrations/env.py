"""Alembic environment: always given a live connection by ``kurobara.db.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

import kurobara.models  # noqa: F401  (registers every table on Base.metadata)
from kurobara.db.base import Base

# Any constant shared by all replicas: one migrates, the others wait, then find nothing to do.
_PG_MIGRATION_LOCK = 0x6B75726F


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `kurobara migrate`")
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
