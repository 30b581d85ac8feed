"""Database: engine and session factory, declarative base, migrations (Alembic, shipped here)."""

from kurobara.db.base import Base, TimestampMixin, UUIDPrimaryKey
from kurobara.db.engine import Database

__all__ = ["Base", "Database", "TimestampMixin", "UUIDPrimaryKey"]
