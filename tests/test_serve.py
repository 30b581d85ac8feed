"""`kurobara serve` as a user runs it: a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TLS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_serve(directory: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """``python -m kurobara serve ARGS`` in ``directory``, its output in ``serve.log`` there."""
    with (directory / "serve.log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "kurobara", "serve", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "KUROBARA_DATABASE_URL": db_url,
        "KUROBARA_DATA_DIR": str(tmp_path),
        "KUROBARA_BUILTIN_PROVIDERS": "false",
    }
    proc = run_serve(tmp_path, env, "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1, verify=TLS).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not start:\n" + (tmp_path / "serve.log").read_text())
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_served_instance_registers_and_logs_in(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10, verify=TLS) as client:
        creds = {"username": "dana", "email": "dana@example.org", "password": "a-long-passphrase"}
        assert client.post("/api/v1/auth/register", json=creds).status_code == 201
        login = client.post(
            "/api/v1/auth/login", data={"username": "dana", "password": "a-long-passphrase"}
        )
        assert login.status_code == 200
        token = login.json()["access_token"]
        me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["username"] == "dana"
        assert client.get("/readyz").status_code == 200
