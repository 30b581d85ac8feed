"""Whole-instance backup of a SQLite database with SQLite's online backup API (a consistent
copy while the server keeps running), restore into a fresh data directory, and retention.
PostgreSQL instances use ``pg_dump``/``pg_restore`` instead (README, "Backups")."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

BACKUP_PREFIX = "kurobara-"
BACKUP_SUFFIX = ".db"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why in words."""


def sqlite_file(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            "this instance uses PostgreSQL: back it up with pg_dump "
            "(see README, Backups); kurobara backup copies SQLite databases"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory; there is no file to back up")
    return Path(url.database)


def backup_name(now: datetime) -> str:
    return f"{BACKUP_PREFIX}{now:%Y%m%d-%H%M%S}{BACKUP_SUFFIX}"


def to_prune(names: list[str], keep: int) -> list[str]:
    """The backups to delete so that the newest ``keep`` remain (names sort by time)."""
    ours = sorted(n for n in names if n.startswith(BACKUP_PREFIX) and n.endswith(BACKUP_SUFFIX))
    return ours[: max(len(ours) - keep, 0)] if keep > 0 else []


def copy_database(source: Path, target: Path) -> None:
    """Copy with the online backup API, page by page, consistent even while it is written."""
    if not source.is_file():
        raise BackupError(f"there is no database file at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def backup(database_url: str, directory: Path, now: datetime, keep: int) -> tuple[Path, list[Path]]:
    """Write a new backup into ``directory`` and delete the oldest beyond ``keep``."""
    target = directory / backup_name(now)
    copy_database(sqlite_file(database_url), target)
    pruned = [directory / name for name in to_prune([p.name for p in directory.iterdir()], keep)]
    for path in pruned:
        path.unlink()
    return target, pruned


def restore(backup_file: Path, database_url: str, *, force: bool) -> Path:
    """Copy a backup over the instance's database; refused over an existing one unless
    ``force`` (stop the server first)."""
    target = sqlite_file(database_url)
    if target.exists() and target.stat().st_size > 0 and not force:
        raise BackupError(
            f"{target} already exists; restore into an empty data directory, or pass --force "
            "with the server stopped to replace it"
        )
    copy_database(backup_file, target)
    return target
