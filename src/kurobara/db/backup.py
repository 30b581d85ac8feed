"""Whole-instance backup of a SQLite database with SQLite's online backup API (a consistent
copy while the server keeps running), restore into a fresh data directory, and retention.
PostgreSQL instances use ``pg_dump``/``pg_restore`` instead (README, "Backups")."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

BACKUP_PREFIX = "kurobara-"
BACKUP_SUFFIX = ".db"


# Folders of the data directory whose files the database only points at: a backup of the
# database does not hold them, so they are copied beside it (README, "Backups").
FILE_FOLDERS: dict[str, str] = {
    "local": "uploaded manga",
    "downloads": "downloaded chapters",
}


def files_not_in_backup(data_dir: Path) -> list[tuple[Path, str, int]]:
    """The data directory's folders of files that a database backup leaves out, each with what
    it holds and how many files it has; only the folders that have any."""
    found = []
    for name, holds in FILE_FOLDERS.items():
        folder = data_dir / name
        count = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
        if count:
            found.append((folder, holds, count))
    return found


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


def taken_at(name: str) -> datetime | None:
    """When a backup of ours was taken, read from its name (``kurobara-YYYYMMDD-HHMMSS.db``);
    None for any other file."""
    if not (name.startswith(BACKUP_PREFIX) and name.endswith(BACKUP_SUFFIX)):
        return None
    stamp = name[len(BACKUP_PREFIX) : -len(BACKUP_SUFFIX)]
    try:
        return datetime.strptime(stamp, "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def next_backup_at(names: list[str], now: datetime, interval: timedelta) -> datetime:
    """When the next scheduled backup is due: ``interval`` after the newest one in the folder,
    at once when there is none (or the newest is dated in the future: a clock set back)."""
    newest = max((t for t in map(taken_at, names) if t is not None), default=None)
    if newest is None or newest > now:
        return now
    return newest + interval


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
