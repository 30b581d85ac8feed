"""Start-up benchmark: time from starting ``kurobara serve`` to its first ``/healthz`` answer.

    .venv/bin/python bench/startup.py                  # SQLite, 5 rounds
    .venv/bin/python bench/startup.py --rounds 9 --pg-url postgresql+asyncpg://...

The database is migrated first (a restart finds it at head, the usual case), then each round
starts a fresh ``python -m kurobara serve`` process with the default settings on a free port
and polls ``/healthz`` every 5 ms. The package is byte-compiled first, as an installed one
is (``PYTHONDONTWRITEBYTECODE`` is dropped for the children, whose bytecode goes to a
temporary ``PYTHONPYCACHEPREFIX``): compiling every module again at
each start is not what a server does. Printed per case: the median wall time to the first answer,
the server process's CPU time (user + system) at that moment (steadier than wall time on a
loaded machine), and, as a floor in the same run, a bare ``python -c pass`` and an import of
the app alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import kurobara
from kurobara.db.migrate import upgrade

TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def healthz(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def serve_once(env: dict[str, str]) -> tuple[float, float]:
    port = free_port()
    command = [sys.executable, "-m", "kurobara", "serve", "--port", str(port)]
    started = time.perf_counter()
    server = subprocess.Popen(
        [*command, "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not healthz(port):
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with {server.returncode}")
            if time.perf_counter() - started > 60:
                raise RuntimeError("no answer in 60 s")
            time.sleep(0.005)
        return time.perf_counter() - started, cpu_seconds(server.pid)
    finally:
        server.terminate()
        server.wait()


def run_once(env: dict[str, str], code: str) -> tuple[float, float]:
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code], env=env)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pg-url", default=os.environ.get("KUROBARA_BENCH_POSTGRES_URL"))
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} CPUs\n")
    with tempfile.TemporaryDirectory(prefix="kurobara-startup-") as tmp:
        cases = {"sqlite": f"sqlite+aiosqlite:///{tmp}/kurobara.db"}
        if args.pg_url:
            cases["postgresql"] = args.pg_url
        base_env = {**os.environ, "KUROBARA_DATA_DIR": tmp}
        base_env.pop("KUROBARA_SECRET_KEY", None)
        # Bytecode goes to a cache of this run's own, not into the source tree.
        base_env.pop("PYTHONDONTWRITEBYTECODE", None)
        base_env["PYTHONPYCACHEPREFIX"] = f"{tmp}/pycache"
        package = str(Path(kurobara.__file__).parent)
        compile_package = [sys.executable, "-m", "compileall", "-q", package]
        subprocess.run(compile_package, env=base_env, check=True)
        warm = "import kurobara.cli, kurobara.app, uvicorn, alembic.command"
        subprocess.run([sys.executable, "-c", warm], env=base_env, check=True)
        for url in cases.values():
            asyncio.run(upgrade(url))
        results: dict[str, list[tuple[float, float]]] = {}
        floors = {
            "python -c pass": "pass",
            # What any FastAPI server on SQLAlchemy imports before its own first line.
            "import the frameworks": (
                "import fastapi, sqlalchemy.ext.asyncio, sqlalchemy.orm, uvicorn"
            ),
            "import kurobara.app": "import kurobara.app",
        }
        for _ in range(args.rounds):  # interleaved, so that load drifts over all cases alike
            for name, code in floors.items():
                results.setdefault(name, []).append(run_once(base_env, code))
            for backend, url in cases.items():
                env = {**base_env, "KUROBARA_DATABASE_URL": url}
                results.setdefault(f"serve, {backend}", []).append(serve_once(env))
    print("| case | first answer s (median) | min | max | CPU s (median) |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in results.items():
        walls = [wall for wall, _ in runs]
        cpus = [cpu for _, cpu in runs]
        print(
            f"| {name} | {statistics.median(walls):.3f} | {min(walls):.3f} | "
            f"{max(walls):.3f} | {statistics.median(cpus):.3f} |"
        )
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
