"""`kurobara backup` / `kurobara restore`: a backup restores into an empty data directory with
nothing lost (every table's rows and the favorites compared); retention keeps the newest."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from kurobara.db.backup import to_prune
from kurobara.db.engine import Database
from tests.factories import MangaFactory, UserFactory
from tests.test_cli_first_run import kurobara

WIDE = {"COLUMNS": "500"}  # a path is not wrapped mid-word by the console


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            n: sorted(map(tuple, conn.execute(f'SELECT * FROM "{n}"')), key=repr) for n in names
        }


async def test_a_backup_restores_into_an_empty_data_dir_with_nothing_lost(
    db_url: str, tmp_path: Path, client: httpx.AsyncClient, users: UserFactory, db: Database
) -> None:
    if not db_url.startswith("sqlite"):
        done = kurobara("--database-url", db_url, "backup", env={}, cwd=tmp_path)
        assert done.returncode == 2
        assert "pg_dump" in done.stdout
        return
    bob = await users.bob()
    for m in await MangaFactory(db).create_many(3):
        await client.post(f"/api/v1/favorites/{m.id}", headers=bob.headers)
    await client.post("/api/v1/categories/", json={"name": "Shelf"}, headers=bob.headers)
    source = Path(str(make_url(db_url).database))

    made = kurobara(
        "--database-url", db_url, "backup", "--output", str(tmp_path / "b"), env={}, cwd=tmp_path
    )
    assert made.returncode == 0, made.stdout + made.stderr
    [backup_file] = list((tmp_path / "b").iterdir())

    fresh = tmp_path / "fresh"
    restored = kurobara("--data-dir", str(fresh), "restore", str(backup_file), env={}, cwd=tmp_path)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    [target] = list(fresh.glob("*.db"))
    before, after = _rows(source), _rows(target)
    assert {n: len(r) for n, r in after.items()} == {n: len(r) for n, r in before.items()}
    assert after == before
    assert len(after["manga_user_library"]) == 3

    again = kurobara("--data-dir", str(fresh), "restore", str(backup_file), env={}, cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stdout


@pytest.mark.parametrize(
    ("names", "keep", "pruned"),
    [
        (
            ["kurobara-20260101-000000.db", "kurobara-20260102-000000.db"],
            1,
            ["kurobara-20260101-000000.db"],
        ),
        (["kurobara-20260101-000000.db", "notes.txt"], 1, []),
        (["kurobara-20260101-000000.db"], 0, []),
    ],
)
def test_retention_deletes_only_the_oldest_backups(
    names: list[str], keep: int, pruned: list[str]
) -> None:
    assert to_prune(names, keep) == pruned


def test_backup_and_restore_name_the_files_the_database_does_not_hold(tmp_path: Path) -> None:
    """Uploaded manga and downloaded chapters are files under the data directory: the backup
    says it left them out, and a restore into a data directory without them says to copy them."""
    data = tmp_path / "data"
    assert kurobara("--data-dir", str(data), "migrate", env=WIDE, cwd=tmp_path).returncode == 0
    (data / "local" / "m1").mkdir(parents=True)
    (data / "local" / "m1" / "1.png").write_bytes(b"png")
    (data / "local" / "m1" / "2.png").write_bytes(b"png")
    made = kurobara("--data-dir", str(data), "backup", env=WIDE, cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    said = made.stdout
    assert f"Not in the backup: {data / 'local'} (uploaded manga, 2 files)" in said
    assert "downloads" not in said  # nothing downloaded, nothing to say

    [backup_file] = list((data / "backups").iterdir())
    fresh = tmp_path / "fresh"
    restored = kurobara(
        "--data-dir", str(fresh), "restore", str(backup_file), env=WIDE, cwd=tmp_path
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    said = restored.stdout
    assert f"copy its data directory's local/ folder to {fresh / 'local'}" in said
    assert f"downloads/ folder to {fresh / 'downloads'}" in said
