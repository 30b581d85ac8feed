"""``kurobara serve`` checks the schema at every start: at head it reads one row and leaves
Alembic unimported; behind, it migrates as ``kurobara migrate`` does."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from kurobara.db.migrate import (
    MIGRATIONS_DIR,
    current_revision,
    head_revisions,
    upgrade,
    upgrade_if_needed,
)

PROBE = """
import asyncio, json, sys
from kurobara.db.migrate import upgrade_if_needed
revision = asyncio.run(upgrade_if_needed(sys.argv[1]))
print(json.dumps({"revision": revision, "alembic": sorted(
    name for name in sys.modules if name == "alembic" or name.startswith("alembic.")
)}))
"""


def _alembic_heads() -> set[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return set(ScriptDirectory.from_config(config).get_heads())


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert head_revisions() == _alembic_heads()
    assert len(head_revisions()) == 1


def test_heads_of_a_branched_history(tmp_path: Path) -> None:
    files = {
        "a.py": 'revision: str = "a"\ndown_revision: str | None = None\n',
        "b.py": 'revision: str = "b"\ndown_revision: str | None = "a"\n',
        "c.py": "revision = 'c'\ndown_revision = 'a'\n",
        "d.py": 'revision: str = "d"\ndown_revision = ("b", "c")\n',
        "e.py": 'revision: str = "e"\ndown_revision: str | None = "d"\n',
    }
    for name, source in files.items():
        (tmp_path / name).write_text(source)
    assert head_revisions(tmp_path) == {"e"}
    (tmp_path / "e.py").unlink()
    (tmp_path / "f.py").write_text('revision: str = "f"\ndown_revision = "b"\n')
    assert head_revisions(tmp_path) == {"d", "f"}


async def test_at_head_alembic_is_not_imported(db_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    probe = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", PROBE, db_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    answer = json.loads(probe.stdout.strip().splitlines()[-1])
    assert answer == {"revision": next(iter(_alembic_heads())), "alembic": []}


async def test_an_empty_database_is_migrated(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    assert await upgrade_if_needed(url) == next(iter(_alembic_heads()))
    assert await current_revision(url) == next(iter(_alembic_heads()))


async def test_a_database_behind_is_migrated(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'behind.db'}"
    await upgrade(url, "0009")  # the schema of an older release
    assert await upgrade_if_needed(url) == next(iter(_alembic_heads()))
    assert await current_revision(url) == next(iter(_alembic_heads()))
