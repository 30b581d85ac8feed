"""The first run as a new user does it: `kurobara create-admin` in a subprocess with no terminal.

The async tests run the command in a thread: a blocking ``subprocess.run`` would stop the test's
event loop while its app may be inside a SQLite write (a background job's claim), and the
command would wait out the busy timeout on that lock ("database is locked")."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from tests.factories import UserFactory
from tests.web.forkserver import FORKS

PASSWORD = "a-long-admin-secret"


def kurobara(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command with no terminal: stdin is empty, so any prompt would fail. It runs forked
    from a process that has already imported it (``tests/web/forkserver.py``)."""
    return FORKS.run(list(args), {**os.environ, **env}, cwd, timeout=120)


async def test_create_admin_without_email_or_terminal(
    db_url: str, tmp_path: Path, client: httpx.AsyncClient, users: UserFactory
) -> None:
    done = await asyncio.to_thread(
        kurobara,
        "create-admin",
        "--username",
        "root",
        "--password",
        PASSWORD,
        env={"KUROBARA_DATABASE_URL": db_url, "KUROBARA_DATA_DIR": str(tmp_path)},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Created admin root" in done.stdout
    root = await users.login("root", password=PASSWORD)
    me = (await client.get("/api/v1/users/me", headers=root.headers)).json()
    assert me["is_superuser"] is True
    assert me["email"].startswith("root@")


async def test_database_url_option_picks_the_database_and_is_named(
    db_url: str, tmp_path: Path, users: UserFactory
) -> None:
    done = await asyncio.to_thread(
        kurobara,
        "--database-url",
        db_url,
        "create-admin",
        "--username",
        "root",
        "--password",
        PASSWORD,
        env={"KUROBARA_DATA_DIR": str(tmp_path / "elsewhere")},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    named = make_url(db_url).render_as_string(hide_password=True)
    assert named in done.stdout.replace("\n", "")
    await users.login("root", password=PASSWORD)


def test_data_dir_option_puts_the_sqlite_file_there(tmp_path: Path) -> None:
    data_dir = tmp_path / "mine"
    data_dir.mkdir()
    env = {"KUROBARA_DATABASE_URL": "", "KUROBARA_DATA_DIR": str(tmp_path / "not-here")}
    done = kurobara("--data-dir", str(data_dir), "migrate", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (data_dir / "kurobara.db").is_file()
    assert "kurobara.db" in done.stdout.replace("\n", "")
