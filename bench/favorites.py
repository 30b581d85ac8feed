"""Favorites benchmark: API latency and throughput under concurrent clients, beside the raw
database time of the same queries, on SQLite and PostgreSQL.

    .venv/bin/python bench/favorites.py                 # full: 100 000 manga, 20 000 favorites
    .venv/bin/python bench/favorites.py --quick         # a small run, about a minute
    .venv/bin/python bench/favorites.py --backends sqlite

PostgreSQL comes from ``--pg-url`` (default ``KUROBARA_BENCH_POSTGRES_URL``); the database is
wiped. The server is a real ``uvicorn`` subprocess on loopback, as ``kurobara serve`` runs it.
"Raw DB" replays, through the driver alone, the exact SQL the service issues for one request
(captured once), so the ratio API / DB is what HTTP, auth and serialization add.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from kurobara.db.engine import Database
from kurobara.db.migrate import upgrade
from kurobara.library import service
from kurobara.library.models import LibraryEntry
from kurobara.manga.models import Manga
from kurobara.monitoring.events import peer_directory
from kurobara.users.models import User
from kurobara.users.security import create_access_token, hash_password

SECRET = "bench-secret-key-not-for-production"
CHUNK = 5_000
PAGE_LIMIT = 20


@dataclass(frozen=True)
class Size:
    manga: int
    favorites: int
    other_users: int
    per_other_user: int
    requests: int


FULL = Size(manga=100_000, favorites=20_000, other_users=200, per_other_user=100, requests=3_000)
QUICK = Size(manga=5_000, favorites=2_000, other_users=20, per_other_user=50, requests=400)


@dataclass
class Dataset:
    user_id: uuid.UUID
    token: str
    # A user with ``per_other_user`` favorites: the count must cost the same for both.
    small_user_id: uuid.UUID
    small_token: str
    favorites: list[uuid.UUID]
    others: list[uuid.UUID]
    deep_page: int


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


# --- seeding ----------------------------------------------------------------------------------


async def reset_database(url: str) -> None:
    if url.startswith("postgresql"):
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    await upgrade(url)


async def _bulk(conn: Any, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await conn.execute(insert(table), list(rows[start : start + CHUNK]))


async def seed(url: str, size: Size) -> Dataset:
    rng = random.Random(7)
    now = datetime.now(UTC)
    hashed = await hash_password("bench-password")  # one hash for all: argon2 is slow on purpose
    users = [
        {
            "id": uuid.uuid4(),
            "username": f"bench{n}",
            "username_key": f"bench{n}",
            "email": f"bench{n}@example.org",
            "email_key": f"bench{n}@example.org",
            "hashed_password": hashed,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(size.other_users + 1)
    ]
    manga = [
        {
            "id": uuid.uuid4(),
            "title": f"Bench Manga {n:06d}",
            "title_key": f"bench manga {n:06d}",
            "alt_titles": [],
            "genres": [],
            "description": "A manga seeded by the benchmark.",
            "cover_image": f"https://covers.example.org/{n}.jpg",
            "created_at": now,
            "updated_at": now,
        }
        for n in range(size.manga)
    ]
    ids = [m["id"] for m in manga]
    main = users[0]["id"]
    favorites = rng.sample(ids, size.favorites)
    entries = [_entry(main, m, now - timedelta(seconds=n)) for n, m in enumerate(favorites)]
    for user in users[1:]:
        picked = rng.sample(ids, size.per_other_user)
        entries += [_entry(user["id"], m, now - timedelta(seconds=n)) for n, m in enumerate(picked)]
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await _bulk(conn, User.__table__, users)
        await _bulk(conn, Manga.__table__, manga)
        await _bulk(conn, LibraryEntry.__table__, entries)
    if url.startswith("postgresql"):
        # What autovacuum does shortly after such a load (statistics, and the visibility map that
        # index-only scans need); SQLite is left as a server has it, without ANALYZE.
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    await engine.dispose()
    favorite_set = set(favorites)
    token = create_access_token(user_id=main, hashed_password=hashed, secret=SECRET, minutes=600)
    small = users[1]["id"]
    small_token = create_access_token(
        user_id=small, hashed_password=hashed, secret=SECRET, minutes=600
    )
    return Dataset(
        user_id=main,
        token=token,
        small_user_id=small,
        small_token=small_token,
        favorites=favorites,
        others=[m for m in ids if m not in favorite_set],
        deep_page=min(500, size.favorites // PAGE_LIMIT),
    )


def _entry(user_id: uuid.UUID, manga_id: uuid.UUID, when: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "manga_id": manga_id,
        "is_favorite": True,
        "favorited_at": when,
        "created_at": when,
        "updated_at": when,
    }


# --- scenarios --------------------------------------------------------------------------------


class Toggler:
    """Each client favorites a random manga, then unfavorites it on its next turn, so the
    favorites count stays near its seeded size."""

    def __init__(self, data: Dataset, seed: int) -> None:
        self.rng = random.Random(seed)
        self.data = data
        self.pending: uuid.UUID | None = None

    def next(self) -> tuple[str, uuid.UUID]:
        if self.pending is not None:
            manga_id, self.pending = self.pending, None
            return "DELETE", manga_id
        self.pending = self.rng.choice(self.data.others)
        return "POST", self.pending


def status_target(rng: random.Random, data: Dataset) -> uuid.UUID:
    return rng.choice(data.favorites if rng.random() < 0.5 else data.others)


def http_scenarios(data: Dataset) -> dict[str, Callable[[random.Random, Toggler], Any]]:
    fav = "/api/v1/favorites"

    def toggle(rng: random.Random, toggler: Toggler) -> tuple[str, str]:
        method, manga_id = toggler.next()
        return method, f"{fav}/{manga_id}"

    return {
        "list page 1": lambda rng, t: ("GET", f"{fav}/?page=1&limit={PAGE_LIMIT}"),
        f"list page {data.deep_page}": lambda rng, t: (
            "GET",
            f"{fav}/?page={data.deep_page}&limit={PAGE_LIMIT}",
        ),
        "count": lambda rng, t: ("GET", f"{fav}/count"),
        "count (small user)": lambda rng, t: ("GET", f"{fav}/count", data.small_token),
        "status": lambda rng, t: ("GET", f"{fav}/{status_target(rng, data)}/status"),
        "toggle": toggle,
    }


def service_calls(
    data: Dataset,
) -> dict[str, Callable[[Any, random.Random, Toggler], Awaitable[Any]]]:
    """The service call behind each HTTP scenario (its SQL is what the raw replay sends)."""
    u = data.user_id

    def listing(page: int) -> Callable[[Any, random.Random, Toggler], Awaitable[Any]]:
        return lambda s, rng, t: service.list_entries(
            db_session=s, user_id=u, is_favorite=True, page=page, limit=PAGE_LIMIT
        )

    async def toggle(s: Any, rng: random.Random, t: Toggler) -> None:
        method, manga_id = t.next()
        call = service.favorite if method == "POST" else service.unfavorite
        await call(db_session=s, user_id=u, manga_id=manga_id)

    return {
        "list page 1": listing(1),
        f"list page {data.deep_page}": listing(data.deep_page),
        "count": lambda s, rng, t: service.count_favorites(db_session=s, user_id=u),
        "count (small user)": lambda s, rng, t: service.count_favorites(
            db_session=s, user_id=data.small_user_id
        ),
        "status": lambda s, rng, t: service.favorite_status(
            db_session=s, user_id=u, manga_id=status_target(rng, data)
        ),
        "toggle": toggle,
    }


# --- load -------------------------------------------------------------------------------------


async def run_load(
    op: Callable[[random.Random, Toggler], Awaitable[bool]],
    data: Dataset,
    *,
    requests: int,
    concurrency: int,
) -> Result:
    result = Result()
    remaining = [requests]

    async def worker(n: int) -> None:
        rng, toggler = random.Random(n), Toggler(data, 1000 + n)
        while remaining[0] > 0:
            remaining[0] -= 1
            started = time.perf_counter()
            ok = await op(rng, toggler)
            result.latencies.append(time.perf_counter() - started)
            result.errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


async def measure_api(base: str, data: Dataset, size: Size, concurrency: int) -> dict[str, Result]:
    headers = {"Authorization": f"Bearer {data.token}"}
    results = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base, headers=headers, connector=connector) as http:
        for name, make in http_scenarios(data).items():

            async def op(rng: random.Random, t: Toggler, make: Any = make) -> bool:
                method, path, *token = make(rng, t)
                auth = {"Authorization": f"Bearer {token[0]}"} if token else None
                async with http.request(method, path, headers=auth) as response:
                    await response.read()
                    return response.status == 200

            await run_load(op, data, requests=concurrency * 2, concurrency=concurrency)  # warm
            results[name] = await run_load(
                op, data, requests=size.requests, concurrency=concurrency
            )
    return results


async def capture(db: Database, call: Callable[..., Awaitable[Any]], *args: Any) -> list[Any]:
    """The driver-level statements (SQL text and parameters) one service call sends."""
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.session() as session:
            await call(session, *args)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    return sent


async def measure_db(url: str, data: Dataset, size: Size, concurrency: int) -> dict[str, Result]:
    db = Database(url)
    results = {}
    try:
        for name, call in service_calls(data).items():
            # Capture a few variants (status of a favorite or not, favorite or unfavorite).
            rng, toggler = random.Random(1), Toggler(data, 1)
            variants = [await capture(db, call, rng, toggler) for _ in range(8)]

            async def op(rng: random.Random, t: Toggler, variants: Any = variants) -> bool:
                async with db.engine.connect() as conn:
                    for statement, params in rng.choice(variants):
                        cursor = await conn.exec_driver_sql(statement, params)
                        if cursor.returns_rows:
                            cursor.fetchall()
                    await conn.commit()
                return True

            await run_load(op, data, requests=concurrency * 2, concurrency=concurrency)
            results[name] = await run_load(
                op, data, requests=size.requests, concurrency=concurrency
            )
    finally:
        await db.dispose()
    return results


# --- server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_server(
    url: str,
    data_dir: Path,
    profile: Path | None = None,
    source: Path | None = None,
    workers: int = 1,
) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    env = {
        **os.environ,
        **({"PYTHONPATH": str(source)} if source is not None else {}),
        "KUROBARA_DATABASE_URL": url,
        "KUROBARA_DATA_DIR": str(data_dir),
        "KUROBARA_SECRET_KEY": SECRET,
        "KUROBARA_MONITOR_ENABLED": "false",
        "KUROBARA_BUILTIN_PROVIDERS": "false",
        "KUROBARA_WORKERS": str(workers),
    }
    command = [sys.executable, "-m", "uvicorn", "kurobara.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command.append("--no-access-log")
    if workers > 1:
        # As `kurobara serve --workers N` runs them (src/kurobara/cli.py).
        command += ["--workers", str(workers), "--timeout-worker-healthcheck", "60"]
    if profile is not None:
        # py-spy starts the server as its child (no ptrace rights needed over other processes)
        # and writes collapsed stacks when the server exits.
        spy = Path(sys.executable).with_name("py-spy")
        record = ["record", "--format", "raw", "--rate", "250", "--nonblocking"]
        command = [str(spy), *record, "--output", str(profile), "--", *command]
    server = await asyncio.create_subprocess_exec(*command, env=env)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"{base}/readyz") as response:
                    # Every worker has started once it has bound its socket for events.
                    if response.status == 200 and _workers_up(data_dir) >= workers:
                        return server, base
            except aiohttp.ClientError:
                pass
            if server.returncode is not None:
                raise RuntimeError("the server exited during start-up")
            await asyncio.sleep(0.1)
    server.terminate()
    await server.wait()
    raise RuntimeError("the server did not become ready in 60 s")


def _workers_up(data_dir: Path) -> int:
    directory = peer_directory(data_dir)
    return max(1, len(list(directory.glob("*.sock")))) if directory.is_dir() else 1


def _children(pid: int) -> list[str]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return children.read_text().split() if children.exists() else []


async def stop_server(server: asyncio.subprocess.Process, profiled: bool) -> None:
    """Stop uvicorn; under py-spy, stop its child, so that py-spy writes the profile and ends."""
    pids = _children(server.pid)
    if profiled and pids:
        for pid in pids:
            os.kill(int(pid), 15)
    else:
        server.terminate()
    await server.wait()


# --- report -----------------------------------------------------------------------------------


def table(backend: str, api: dict[str, Result], db: dict[str, Result]) -> str:
    lines = [
        f"{backend}",
        "",
        "| scenario | API p50 ms | API p99 ms | API req/s | DB p50 ms | DB p99 ms | DB ops/s "
        "| p50 API/DB | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, a in api.items():
        d = db[name]
        lines.append(
            f"| {name} | {a.pct(0.5):.1f} | {a.pct(0.99):.1f} | {a.rate:.0f} | "
            f"{d.pct(0.5):.2f} | {d.pct(0.99):.2f} | {d.rate:.0f} | "
            f"{a.pct(0.5) / max(d.pct(0.5), 1e-6):.1f}x | {a.errors} |"
        )
    return "\n".join(lines)


def profile_summary(path: Path, top: int = 25) -> str:
    """The functions with the most samples in py-spy's collapsed stacks: own time (the frame on
    top) and total time (anywhere on the stack), as shares of all samples."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = [_frame(frame) for frame in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + count
    if not samples:
        return "no samples"
    lines = [f"{samples} samples", "", "| own % | function |", "|---:|---|"]
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"| {100 * count / samples:.1f} | {frame} |")
    lines += ["", "| total % | function |", "|---:|---|"]
    for frame, count in sorted(total.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"| {100 * count / samples:.1f} | {frame} |")
    return "\n".join(lines)


def _frame(frame: str) -> str:
    """``func (path/to/module.py:12)`` as ``func (module.py)``: lines merged, paths shortened."""
    name, _, where = frame.partition(" (")
    module = where.split(":")[0].rsplit("/", 2)
    return f"{name} ({'/'.join(module[-2:])})"


async def bench_backend(
    backend: str,
    url: str,
    size: Size,
    concurrency: int,
    profile: Path | None = None,
    baseline: Path | None = None,
    workers: int = 1,
) -> str:
    started = time.perf_counter()
    await reset_database(url)
    data = await seed(url, size)
    seeded = time.perf_counter() - started
    print(f"[{backend}] seeded in {seeded:.1f}s", file=sys.stderr)
    runs: dict[str, dict[str, Result]] = {}
    # With a baseline (another checkout's src/), its server runs the same scenarios on the same
    # data right after this checkout's.
    # With --workers N, the same scenarios on N worker processes, right after one.
    servers: dict[str, tuple[Path | None, int]] = {"now": (None, 1)}
    if baseline is not None:
        servers["baseline"] = (baseline, 1)
    if workers > 1:
        servers[f"{workers} workers"] = (None, workers)
    for label, (source, count) in servers.items():
        with tempfile.TemporaryDirectory() as tmp:
            server, base = await start_server(
                url, Path(tmp), profile if label == "now" else None, source, count
            )
            try:
                runs[label] = await measure_api(base, data, size, concurrency)
            finally:
                await stop_server(server, profile is not None and label == "now")
    if profile is not None:
        await asyncio.sleep(1)  # py-spy writes its file after the server has gone
        print(f"[{backend}] profile of the server:\n{profile_summary(profile)}\n", file=sys.stderr)
    db = await measure_db(url, data, size, concurrency)
    report = table(f"**{backend}** (seeded in {seeded:.0f} s)", runs["now"], db)
    for label in runs:
        if label != "now":
            report += "\n\n" + versus(backend, runs, label)
    return report


def versus(backend: str, runs: dict[str, dict[str, Result]], other: str) -> str:
    """``other``'s figures beside one worker of this checkout's ("now"), scenario by scenario;
    the ratio is now / other."""
    now, baseline = runs["now"], runs[other]
    lines = [
        f"{backend}: this checkout, one worker, against {other}; same data, same run",
        "",
        f"| scenario | req/s now | req/s {other} | now / {other} | p50 ms now | p50 ms {other} |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, a in now.items():
        b = baseline[name]
        lines.append(
            f"| {name} | {a.rate:.0f} | {b.rate:.0f} | {a.rate / max(b.rate, 1e-9):.2f}x | "
            f"{a.pct(0.5):.1f} | {b.pct(0.5):.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data set, few requests")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("KUROBARA_BENCH_POSTGRES_URL"))
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--requests", type=int, help="requests per scenario")
    parser.add_argument("--profile", type=Path, help="sample the server with py-spy into FILE")
    parser.add_argument(
        "--baseline", type=Path, help="also serve from this src/ directory (e.g. main's)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="also serve with this many worker processes"
    )
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    if args.requests:
        size = Size(**{**size.__dict__, "requests": args.requests})
    print(
        f"{size.manga} manga, {size.favorites} favorites for the measured user, "
        f"{size.other_users} users x {size.per_other_user}; {args.concurrency} clients, "
        f"{size.requests} requests per scenario; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}\n"
    )

    def run(backend: str, url: str) -> None:
        options = (args.concurrency, args.profile, args.baseline, args.workers)
        print(asyncio.run(bench_backend(backend, url, size, *options)) + "\n")

    for backend in args.backends.split(","):
        if backend == "postgresql":
            if not args.pg_url:
                print("postgresql: skipped (set --pg-url or KUROBARA_BENCH_POSTGRES_URL)\n")
                continue
            run(backend, args.pg_url)
            continue
        with tempfile.TemporaryDirectory(prefix="kurobara-bench-") as tmp:
            run(backend, f"sqlite+aiosqlite:///{tmp}/bench.db")


if __name__ == "__main__":
    main()
