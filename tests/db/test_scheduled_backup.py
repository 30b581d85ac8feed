"""The scheduled backup (issue 16 item 3): due ``KUROBARA_BACKUP_INTERVAL_HOURS`` after the newest
backup in data_dir/backups, the newest ``KUROBARA_BACKUP_KEEP`` kept, time from an injected
clock; on PostgreSQL nothing is taken and a log line says to use pg_dump."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from kurobara.app import create_app
from kurobara.config import Settings
from kurobara.db.backup import next_backup_at, taken_at
from kurobara.db.scheduled import ScheduledBackup

T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class SetClock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("kurobara-20261202-030000.db", T0),
        ("kurobara-20261202-030000.db.part", None),
        ("kurobara-2026-12-02.db", None),
        ("notes.txt", None),
    ],
)
def test_taken_at(name: str, expected: datetime | None) -> None:
    assert taken_at(name) == expected


@pytest.mark.parametrize(
    ("names", "now", "due"),
    [
        ([], T0, T0),  # none yet: at once
        (["kurobara-20261202-030000.db"], T0 + timedelta(hours=1), T0 + DAY),
        (["kurobara-20261201-030000.db", "kurobara-20261202-030000.db"], T0, T0 + DAY),
        (["kurobara-20261203-030000.db"], T0, T0),  # dated in the future: the clock went back
        (["other.db"], T0, T0),
    ],
)
def test_next_backup_at(names: list[str], now: datetime, due: datetime) -> None:
    assert next_backup_at(names, now, DAY) == due


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"backup_interval_hours": 24, "backup_keep": 2}


def backups(settings: Settings) -> list[str]:
    folder = settings.data_dir / "backups"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


async def test_backups_follow_the_interval_and_keep_the_newest(
    app: object, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    await app.state.scheduled_backup.stop()  # type: ignore[attr-defined]
    clock = SetClock(T0 + 10 * DAY)
    component = ScheduledBackup(settings=settings, clock=clock)
    if settings.resolved_database_url.startswith("postgresql"):
        with caplog.at_level(logging.INFO, logger="kurobara.db.scheduled"):
            assert await component.step() is None
        assert "use pg_dump" in caplog.text
        assert backups(settings) == []
        return
    before = backups(settings)  # the one the app took when it started
    assert len(before) == 1
    first = await component.step()
    assert first is not None
    assert first.name == "kurobara-20261212-030000.db"
    clock.at += timedelta(hours=23)
    assert await component.step() is None
    assert component.seconds_until_due() == 3600
    clock.at += timedelta(hours=1)
    second = await component.step()
    assert second is not None
    assert backups(settings) == [first.name, second.name]  # keep=2: the start-up one went
    tables = "select name from sqlite_master where type = 'table' order by name"
    source = settings.resolved_database_url.split("///", 1)[1]
    with sqlite3.connect(second) as copy, sqlite3.connect(source) as live:
        assert copy.execute(tables).fetchall() == live.execute(tables).fetchall()
        assert ("alembic_version",) in copy.execute(tables).fetchall()


async def test_the_app_takes_the_first_backup_when_it_starts(
    app: object, settings: Settings
) -> None:
    component = app.state.scheduled_backup  # type: ignore[attr-defined]
    await component.stop()
    expected = 0 if settings.resolved_database_url.startswith("postgresql") else 1
    assert len(backups(settings)) == expected


async def test_without_an_interval_nothing_is_scheduled(settings: Settings) -> None:
    off = settings.model_copy(update={"backup_interval_hours": 0})
    application = create_app(off)
    async with application.router.lifespan_context(application):
        assert not hasattr(application.state, "scheduled_backup")
    assert backups(settings) == []
