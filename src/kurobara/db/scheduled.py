"""The scheduled backup: a component with ``start()``/``stop()`` whose loop runs ``step()``,
which takes a SQLite online backup into ``data_dir/backups`` when one is due
(``KUROBARA_BACKUP_INTERVAL_HOURS`` after the newest there) and keeps the newest
``KUROBARA_BACKUP_KEEP``. The schedule is read from the backups' names, so a restart neither
repeats a backup nor forgets one. On PostgreSQL it takes none and says so once: a database
server is backed up with ``pg_dump`` (docs/backup.md).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.engine import make_url

from kurobara.background import nap
from kurobara.config import Settings
from kurobara.db import backup as db_backup
from kurobara.monitoring.clock import Clock

logger = logging.getLogger(__name__)

# The loop never sleeps longer than this, so a changed clock or a folder emptied by hand is
# noticed within the hour.
MAX_NAP_SECONDS = 3600.0
ERROR_RETRY_SECONDS = 600.0


class ScheduledBackup:
    def __init__(self, *, settings: Settings, clock: Clock) -> None:
        self.database_url = settings.resolved_database_url
        self.directory = settings.data_dir / "backups"
        self.interval = timedelta(hours=settings.backup_interval_hours)
        self.keep = settings.backup_keep
        self.clock = clock
        self.is_sqlite = make_url(self.database_url).get_backend_name() == "sqlite"
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._told_postgres = False

    def _names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return [path.name for path in self.directory.iterdir()]

    def seconds_until_due(self) -> float:
        due = db_backup.next_backup_at(self._names(), self.clock.now(), self.interval)
        return max((due - self.clock.now()).total_seconds(), 0.0)

    async def step(self) -> Path | None:
        """One pass: the backup made, or None when none was due (or this is PostgreSQL)."""
        if not self.is_sqlite:
            if not self._told_postgres:
                logger.info("scheduled backup skipped database=postgresql: use pg_dump "
                            "(docs/backup.md)")  # fmt: skip
                self._told_postgres = True
            return None
        now = self.clock.now()
        if db_backup.next_backup_at(self._names(), now, self.interval) > now:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        made, pruned = await asyncio.to_thread(
            db_backup.backup, self.database_url, self.directory, now, self.keep
        )
        logger.info("scheduled backup made file=%s size=%d pruned=%d keep=%d", made.name,
                    made.stat().st_size, len(pruned), self.keep)  # fmt: skip
        return made

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name="scheduled-backup")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _pass(self) -> float:
        """A step, then how long to wait before the next one."""
        try:
            await self.step()
            return min(self.seconds_until_due(), MAX_NAP_SECONDS)
        except Exception as exc:  # a full disk or a locked file: logged, retried
            logger.warning("scheduled backup failed: %s; retrying in %ds", exc,
                           ERROR_RETRY_SECONDS)  # fmt: skip
            return ERROR_RETRY_SECONDS

    async def _loop(self) -> None:
        # The first pass runs even when stop() comes at once: a due backup is never skipped
        # by a quick restart.
        while True:
            wait = await self._pass()
            if self._stopping.is_set() or not self.is_sqlite:
                return
            await nap(self._stopping, max(wait, 1.0))


async def start_scheduled_backup(app: FastAPI, stack: AsyncExitStack) -> None:
    """Wire the scheduled backup into the app's lifespan when an interval is set."""
    settings: Settings = app.state.settings
    if settings.backup_interval_hours <= 0:
        return
    component = ScheduledBackup(settings=settings, clock=app.state.clock)
    app.state.scheduled_backup = component
    await component.start()
    stack.push_async_callback(component.stop)
