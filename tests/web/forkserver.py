"""Servers for the tests that drive ``kurobara serve``, forked from one process per pytest worker
that has already imported what serving imports.

A server start was mostly the import of the app (about 2.3 s of CPU each, for some hundred
starts a run on two cores). Each server forked here runs the same ``kurobara.cli.main()`` with
the same arguments, environment, working directory and log file as ``python -m kurobara serve``
would, in a process of its own; only the imports were done before the fork. The forking process
imports and starts nothing else (no thread, no event loop), so a fork of it is as clean as a
fresh interpreter. ``tests/test_serve.py`` still starts the real command.

Run as a script by ``ForkServer``; it reads one JSON request per line on stdin and answers each
with the forked server's pid on stdout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

STOPPED = -1  # the exit status of a forked server is its forking process's, not ours to read


class ForkedProcess:
    """A forked server, with the part of ``subprocess.Popen``'s interface the tests use. The
    forking process lets the kernel reap its children, so a pid that is gone has exited."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = STOPPED
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
                self.returncode = STOPPED

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)


class ForkServer:
    """The forking process of this pytest worker, started at the first server it is asked for
    and ended with the worker (its stdin closes)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None

    def start(self, argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> ForkedProcess:
        request = {"argv": argv, "env": env, "cwd": str(cwd), "log": str(log)}
        proc = self._running()
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        answer = proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"the fork server ended (exit status {proc.wait()})")
        return ForkedProcess(int(json.loads(answer)["pid"]))

    def _running(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, __file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                # Its own imports read no KUROBARA_* variable; each server gets its own env.
                env={k: v for k, v in os.environ.items() if not k.startswith("KUROBARA_")},
            )
        return self._proc


def _serve(request: dict[str, Any]) -> None:
    """In the forked child: become ``kurobara <argv>`` and never return."""
    from kurobara.cli import main

    status = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the forking process ignores it
        os.setsid()  # not in the forking process's group: a Ctrl-C there is not one here
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(null)
        sys.argv = ["kurobara", *request["argv"]]
        main()
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _forking_loop() -> None:
    # What ``kurobara serve`` spends its start-up CPU on; nothing here starts a thread or loop.
    import uvicorn  # noqa: F401

    import kurobara.app
    import kurobara.cli  # noqa: F401

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
