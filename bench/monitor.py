"""Monitor benchmark: a full sweep of N fake providers by the real scheduler (claims, checks,
recording, rollups), beside a bare loop making the same requests with the same HTTP client,
and the bare loop through aiohttp alone (bench/http_client.py compares the clients, httpx included).

    .venv/bin/python bench/monitor.py                  # 1 000 and 10 000 providers, c = 5/50/200
    .venv/bin/python bench/monitor.py --quick          # 1 000 providers, c = 5/50, about a minute
    .venv/bin/python bench/monitor.py --database-url postgresql+asyncpg://...   # wiped!
    .venv/bin/python bench/monitor.py --sizes 10000 --concurrency 50 --rounds 3 \
        --baseline ../other-checkout/src                 # older code's sweep, alternated

The providers' site is one fast local server (uvicorn + httptools, a bare ASGI app) in another
process; every provider has its own health URL on it. Each case runs in a fresh process so that
its peak RSS is its own. CPU is the benchmarking process's user + system time (for the sweep
that includes SQLite, which runs in-process; PostgreSQL's server CPU is not counted). With
``--rounds`` every case runs that many times, the cases of one size alternating round by round
(load drifts over all of them alike), and the medians are shown; ``--baseline SRC`` adds the
sweep of the code in another checkout's ``src/`` to each round.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import os
import platform
import resource
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

KIND_TARGET = "bench.monitor:BenchProvider"
PROFILER: Any = None


# -- the providers' site -------------------------------------------------------------------


async def _site(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


def _serve_site(port: int) -> None:
    import uvicorn

    uvicorn.run(_site, host="127.0.0.1", port=port, log_level="error", access_log=False,
                http="httptools", loop="uvloop" if _has("uvloop") else "asyncio",
                lifespan="off", backlog=4096)  # fmt: skip


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_site() -> tuple[mp.Process, str]:
    port = free_port()
    process = mp.get_context("spawn").Process(target=_serve_site, args=(port,), daemon=True)
    process.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("site did not start")


# -- one case, in its own process ----------------------------------------------------------


@dataclass
class Case:
    mode: str  # sweep, bare-client (our HttpClient), bare-aiohttp
    providers: int
    concurrency: int
    site: str
    database_url: str | None
    profile: bool = False


def _provider_kind() -> None:
    from kurobara.providers.registry import KINDS

    KINDS["bench"] = KIND_TARGET


def _usage() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


async def _bare_client(case: Case) -> int:
    from kurobara.providers.http import HttpClient

    client = HttpClient(user_agent="bench", timeout=30, max_connections=max(case.concurrency, 10))
    slots = asyncio.Semaphore(case.concurrency)

    async def one(i: int) -> bool:
        async with slots:
            response = await client.get(f"p{i}", f"{case.site}/p{i}")
            return response.status_code == 200

    try:
        return sum(await asyncio.gather(*(one(i) for i in range(case.providers))))
    finally:
        await client.aclose()


async def _bare_aiohttp(case: Case) -> int:
    import aiohttp

    slots = asyncio.Semaphore(case.concurrency)
    connector = aiohttp.TCPConnector(limit=max(case.concurrency, 10))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> bool:
            async with slots, session.get(f"{case.site}/p{i}") as response:
                await response.read()
                return response.status == 200

        return sum(await asyncio.gather(*(one(i) for i in range(case.providers))))


async def _prepare_sweep(case: Case, workdir: Path) -> Any:
    from sqlalchemy import text

    from kurobara.config import Settings
    from kurobara.db.migrate import upgrade

    url = case.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    if case.database_url:
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    await upgrade(url)
    path = workdir / "providers.yaml"
    entries = [{"id": f"p{i}", "name": f"P{i}", "kind": "bench", "url": f"{case.site}/p{i}",
                "rate_limit": 100} for i in range(case.providers)]  # fmt: skip
    path.write_text(yaml.safe_dump(entries))
    return Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=url, data_dir=workdir, builtin_providers=False,
        providers_file=path, check_concurrency=case.concurrency, check_jitter_seconds=0,
    )  # fmt: skip


async def _sweep(case: Case, settings: Any) -> tuple[int, float, float, float]:
    """Sync rows, then time the real monitor (loop, claims, checks, records) until every
    provider has been checked once."""
    from kurobara.db.engine import Database
    from kurobara.monitoring import service
    from kurobara.monitoring.jobs import Monitor
    from kurobara.providers.http import HttpClient
    from kurobara.providers.registry import ProviderRegistry

    db = Database(settings.resolved_database_url)
    http = HttpClient(user_agent="bench", timeout=30, max_connections=max(case.concurrency, 10))
    registry = ProviderRegistry.from_settings(settings, http)
    async with db.session() as session:
        await service.sync_registry(db_session=session, registry=registry, settings=settings)
    monitor = Monitor(db=db, registry=registry, http=http, settings=settings)
    done = asyncio.Event()
    seen = {"checks": 0, "ok": 0}

    def count(report: Any) -> None:
        seen["checks"] += 1
        seen["ok"] += report.result.ok
        if seen["checks"] >= case.providers:
            done.set()

    monitor.checker.add_listener(count)
    # As the served app does once started (an older tree's baseline did not).
    import kurobara.app

    freeze = getattr(kurobara.app, "freeze_startup_objects", None)
    if freeze is not None:
        freeze()
    cpu0, _ = _usage()
    if PROFILER is not None:
        PROFILER.enable()
    started = time.perf_counter()
    await monitor.start()
    await done.wait()
    wall = time.perf_counter() - started
    if PROFILER is not None:
        PROFILER.disable()
    cpu1, rss = _usage()
    gc.unfreeze()
    await monitor.stop()
    await http.aclose()
    await db.dispose()
    return seen["ok"], wall, cpu1 - cpu0, rss


def run_case(case: Case, src: str | None = None) -> dict[str, Any]:
    if src is not None:
        import kurobara

        if not str(kurobara.__file__).startswith(src):
            raise RuntimeError(f"the baseline was to come from {src}, not {kurobara.__file__}")
    _provider_kind()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

    async def main() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            if case.mode == "sweep":
                settings = await _prepare_sweep(case, Path(tmp))
                ok, wall, cpu, rss = await _sweep(case, settings)
            else:
                bare = _bare_client if case.mode == "bare-client" else _bare_aiohttp
                cpu0, _ = _usage()
                started = time.perf_counter()
                ok = await bare(case)
                wall = time.perf_counter() - started
                cpu1, rss = _usage()
                cpu = cpu1 - cpu0
        return {"ok": ok, "wall": wall, "cpu": cpu, "rss": rss}

    if not case.profile:
        return asyncio.run(main())
    import cProfile
    import io
    import pstats

    global PROFILER
    PROFILER = cProfile.Profile()  # enabled while the sweep is timed
    result = asyncio.run(main())
    out = io.StringIO()
    stats = pstats.Stats(PROFILER, stream=out)
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(r"kurobara", 25)
    result["profile"] = out.getvalue()
    return result


def measure(case: Case, src: Path | None = None) -> dict[str, Any]:
    """Run ``case`` in a fresh process; with ``src``, importing Kurobara from there (a spawned
    process starts with its parent's ``sys.path``, and imports this module, Kurobara with it,
    before it runs the case)."""
    where = None if src is None else str(src.resolve())
    if where is not None:
        sys.path.insert(0, where)
    try:
        pool = mp.get_context("spawn").Pool(1)  # its process starts here
    finally:
        if where is not None:
            sys.path.remove(where)
    with pool:
        return pool.apply(run_case, (case, where))


def _median(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The round of median wall time (its own CPU and RSS beside it)."""
    ordered = sorted(results, key=lambda result: result["wall"])
    middle = ordered[len(ordered) // 2]
    return {**middle, "walls": [result["wall"] for result in results],
            "cpu": statistics.median(result["cpu"] for result in results)}  # fmt: skip


# -- the provider kind the sweep uses --------------------------------------------------------


def _bench_provider() -> type:
    from kurobara.providers.base import Provider

    class BenchProvider(Provider):
        kind = "bench"

        async def search(self, query: str, *, page: int = 1, limit: int = 20) -> list[Any]:
            return []

        async def get_manga_details(self, external_id: str) -> Any:
            raise LookupError(external_id)

        async def get_chapters(self, external_id: str) -> list[Any]:
            return []

        async def get_pages(self, chapter_id: str) -> list[Any]:
            return []

    return BenchProvider


BenchProvider = _bench_provider()


# -- report ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 000 providers, c = 5 and 50")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL (wiped); default SQLite"
    )
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument("--concurrency", type=int, nargs="*", default=None)
    parser.add_argument(
        "--profile", action="store_true", help="then profile one sweep and print its top entries"
    )
    parser.add_argument("--rounds", type=int, default=1, help="runs of each case (medians)")
    parser.add_argument(
        "--baseline", type=Path, default=None,
        help="also sweep with the code of this src/ directory (e.g. an older checkout's)",
    )  # fmt: skip
    args = parser.parse_args()
    sizes = args.sizes or ([1000] if args.quick else [1000, 10000])
    levels = args.concurrency or ([5, 50] if args.quick else [5, 50, 200])
    site_process, site = start_site()
    backend = "postgresql" if args.database_url else "sqlite"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# monitor benchmark  python {platform.python_version()}  {platform.machine()}  "
          f"cpus={os.cpu_count()}  load={load}  database={backend}")  # fmt: skip
    header = ("| providers | c | mode | wall s | checks/s | CPU s / 1000 | peak RSS MB | "
              "sweep/bare |")  # fmt: skip
    print(header)
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    try:
        modes = ["bare-client", "bare-aiohttp", "sweep"]
        if args.baseline is not None:
            modes.append("sweep (baseline)")
        for size in sizes:
            for level in levels:
                runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
                for _ in range(args.rounds):
                    for mode in modes:
                        baseline = mode == "sweep (baseline)"
                        case = Case("sweep" if baseline else mode, size, level, site,
                                    args.database_url)  # fmt: skip
                        result = measure(case, args.baseline if baseline else None)
                        runs[mode].append(result)
                        if result["ok"] != size:
                            print(f"warning: {mode} succeeded {result['ok']} of {size}",
                                  file=sys.stderr)  # fmt: skip
                rows = {mode: _median(results) for mode, results in runs.items()}
                for mode, result in rows.items():
                    ratio = (
                        f"{result['wall'] / rows['bare-client']['wall']:.1f}x"
                        if mode.startswith("sweep") else "")  # fmt: skip
                    print(f"| {size} | {level} | {mode} | {result['wall']:.2f} | "
                          f"{size / result['wall']:.0f} | {1000 * result['cpu'] / size:.2f} | "
                          f"{result['rss']:.0f} | {ratio} |", flush=True)  # fmt: skip
                if args.rounds > 1:
                    for mode, result in rows.items():
                        walls = ", ".join(f"{wall:.2f}" for wall in result["walls"])
                        print(f"#   {size} c={level} {mode}: walls {walls}")
        if args.profile:
            case = Case("sweep", sizes[0], levels[-1], site, args.database_url, profile=True)
            result = measure(case)
            print(f"\n# profile of one sweep: {sizes[0]} providers, c = {levels[-1]} "
                  f"(cProfile slows it: wall {result['wall']:.2f} s)")  # fmt: skip
            print(result["profile"])
    finally:
        site_process.terminate()
        site_process.join(5)


if __name__ == "__main__":
    main()
