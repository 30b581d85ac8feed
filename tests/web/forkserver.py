"""Servers for the tests that drive ``kurobara serve``, forked from one process per pytest worker
that has already imported what serving imports.

A server start was mostly the import of the app (about 2.3 s of CPU each, for some hundred
starts a run on two cores). Each server forked here runs the same ``kurobara.cli.main()`` with
the same arguments, environment, working directory and log file as ``python -m kurobara serve``
would, in a process of its own; only the imports were done before the fork. The forking process
imports and starts nothing else (no thread, no event loop), so a fork of it is as clean as a
fresh interpreter. ``tests/test_serve.py`` still starts the real command.

The same forking serves the tests of other commands (``kurobara demo``, ``create-admin``...):
``FORKS.run`` is ``subprocess.run`` for ``kurobara <argv>``, with its exit status and output.

Run as a script by ``ForkServer``; it reads one JSON request per line on stdin and answers each
with the forked process's pid on stdout.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

KILLED = -9  # a forked process gone without writing its exit status was killed


class ForkedProcess:
    """A forked process, with the part of ``subprocess.Popen``'s interface the tests use. The
    forking process lets the kernel reap its children, so a pid that is gone has exited; its
    exit status is what it wrote to ``status`` on its way out."""

    def __init__(self, pid: int, status: Path) -> None:
        self.pid = pid
        self.status = status
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                written = self.status.read_text() if self.status.exists() else ""
                self.returncode = int(written) if written else KILLED
        return self.returncode

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"forked server {self.pid}", timeout)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def _signal(self, number: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, number)
            except ProcessLookupError:
                self.poll()

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)


class ForkServer:
    """The forking process of this pytest worker, started at the first process it is asked for
    and ended with the worker (its stdin closes)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None

    def start(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        log: Path,
        *,
        errors: Path | None = None,
    ) -> ForkedProcess:
        """``kurobara <argv>`` running, its stdout in ``log`` and its stderr too (or in
        ``errors``); stdin is empty."""
        status = log.with_name(log.name + ".status")
        status.unlink(missing_ok=True)
        request = {
            "argv": argv,
            "env": env,
            "cwd": str(cwd),
            "log": str(log),
            "errors": str(errors or log),
            "status": str(status),
        }
        proc = self._running()
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        answer = proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"the fork server ended (exit status {proc.wait()})")
        return ForkedProcess(int(json.loads(answer)["pid"]), status)

    def run(
        self, argv: list[str], env: dict[str, str], cwd: Path, *, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """``subprocess.run(["kurobara", *argv], stdin=DEVNULL, capture_output=True, text=True)``
        with this environment and working directory."""
        with tempfile.TemporaryDirectory(prefix="kurobara-run-") as scratch:
            out, err = Path(scratch) / "stdout", Path(scratch) / "stderr"
            proc = self.start(argv, env, cwd, out, errors=err)
            try:
                status = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
            return subprocess.CompletedProcess(
                ["kurobara", *argv], status, out.read_text(), err.read_text()
            )

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait(timeout=10)

    def _running(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, __file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                # Each forked process gets its own env. None of what is read at import may come
                # from this one: KUROBARA_* is read later, but the CLI's console takes its width
                # from COLUMNS / LINES when it is made, at import (xdist workers have COLUMNS).
                env={k: v for k, v in os.environ.items() if not _read_at_import(k)},
            )
        return self._proc


FORKS = ForkServer()
atexit.register(FORKS.close)


def _read_at_import(name: str) -> bool:
    return name.startswith("KUROBARA_") or name in ("COLUMNS", "LINES")


def _serve(request: dict[str, Any]) -> None:
    """In the forked child: become ``kurobara <argv>`` and never return. Its exit status and
    anything uncaught are what ``python -m kurobara`` would give."""
    from kurobara.cli import main

    status = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the forking process ignores it
        os.setsid()  # not in the forking process's group: a Ctrl-C there is not one here
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        out = os.open(request["log"], flags, 0o644)
        err = out if request["errors"] == request["log"] else os.open(request["errors"], flags)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        for fd in {out, err, null}:
            os.close(fd)
        sys.argv = ["kurobara", *request["argv"]]
        main()
        status = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            status = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        Path(request["status"]).write_text(str(status))
        os._exit(status)


def _forking_loop() -> None:
    # What ``kurobara serve`` spends its start-up CPU on; nothing here starts a thread or loop.
    import uvicorn  # noqa: F401

    import kurobara.app
    import kurobara.cli
    import kurobara.providers.fakes.demo  # noqa: F401  (what `kurobara demo` adds)

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the servers
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _serve(request)
        sys.stdout.write(json.dumps({"pid": pid}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _forking_loop()
