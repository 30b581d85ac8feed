"""Run the shipped Alembic migrations programmatically (``kurobara migrate``, ``serve``, tests).

``upgrade_if_needed`` is what ``kurobara serve`` runs at every start: when the database is
already at the newest revision (the usual restart) it reads the one ``alembic_version`` row and
compares it with the head found in the revision files' own ``revision`` / ``down_revision``
lines, without importing Alembic (about a third of a second of start-up on its own).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from kurobara.db.engine import build_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision\b[^=]*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\b[^=]*=(.*)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def head_revisions(versions: Path = MIGRATIONS_DIR / "versions") -> set[str]:
    """The revisions no other revision builds on, read from the files' assignments."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if found := _REVISION.search(source):
            revisions.add(found.group(1))
        if down := _DOWN.search(source):
            parents.update(_QUOTED.findall(down.group(1)))
    return revisions - parents


async def stored_revisions(url: str) -> set[str]:
    """The revisions recorded in the database (empty: never migrated)."""
    engine = build_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return {str(row[0]) for row in rows}
    except DBAPIError:  # no alembic_version table yet
        return set()
    finally:
        await engine.dispose()


async def upgrade_if_needed(url: str) -> str | None:
    """Migrate to head unless the database is there already; the revision it is at."""
    heads = head_revisions()
    if len(heads) == 1 and await stored_revisions(url) == heads:
        return next(iter(heads))
    await upgrade(url)
    return await current_revision(url)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    await _run(url, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    await _run(url, lambda cfg: command.downgrade(cfg, revision))


async def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = build_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


async def _run(url: str, action: object) -> None:
    engine = build_engine(url)
    try:
        async with engine.begin() as conn:

            def run(sync_conn: Connection) -> None:
                action(alembic_config(sync_conn))  # type: ignore[operator]

            await conn.run_sync(run)
    finally:
        await engine.dispose()
