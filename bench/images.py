"""Image proxy benchmark: cached pages through Kurobara against the same files from a plain
static file server, in one run; and 50 readers opening one uncached chapter at once.

    .venv/bin/python bench/images.py            # 20 pages of 200 KiB, 4 000 requests, 3 rounds
    .venv/bin/python bench/images.py --quick    # 1 000 requests, 1 round

Both servers are ``uvicorn`` subprocesses on loopback with the same flags: Kurobara as
``kurobara serve`` runs it (SQLite, the whole middleware stack, the ``/api/v1/images/{token}``
route, HMAC check and the disk cache), and a bare Starlette ``StaticFiles`` app over a
directory holding the same bytes. The image host is a small Starlette app in a thread of this
process that counts requests per image and refuses a foreign Referer. Rounds interleave
(static, proxy, static, ...) so the machine's load drifts over both alike; the table shows the
median round. The goal (issue 12): cached proxy within 1.5x of the static server; exactly one
upstream fetch per image under 50 concurrent readers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kurobara.db.migrate import upgrade
from kurobara.images.tokens import ImageRef, ImageSigner
from kurobara.providers.fakes.server import BackgroundServer

ROOT = str(Path(__file__).resolve().parent.parent)
SECRET = "bench-images-secret-key-0123456789abcdef"
PROVIDER = "imghost"
PAGE_BYTES = 200 * 1024
PAGES = 20
READERS = 50


# -- the image host and the static server -------------------------------------------------


def page_bytes(n: int) -> bytes:
    rng = random.Random(n)
    return b"\xff\xd8\xff\xe0" + rng.randbytes(PAGE_BYTES - 4)


class ImageHost:
    """An upstream site: ``/img/<n>.jpg``, counted, refused with a foreign Referer."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.app = Starlette(routes=[Route("/img/{n:int}.jpg", self._image)])
        self.server = BackgroundServer(self.app, name="bench-image-host")
        self.url = ""

    async def _image(self, request: Request) -> Response:
        referer = request.headers.get("referer", "")
        if not referer.startswith(self.url + "/"):
            return PlainTextResponse("Hotlinking is not allowed", status_code=403)
        self.hits[request.url.path] += 1
        await asyncio.sleep(0.02)  # a remote site's latency: readers pile up on a miss
        return Response(page_bytes(request.path_params["n"]), media_type="image/jpeg")

    def start(self) -> None:
        port = self.server.start("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{port}"


def static_app() -> Starlette:
    """The baseline: the same files from a bare static file app (``BENCH_STATIC_DIR``)."""
    directory = os.environ["BENCH_STATIC_DIR"]
    return Starlette(routes=[Mount("/", StaticFiles(directory=directory))])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_uvicorn(app: str, env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    root = ROOT
    server = await asyncio.create_subprocess_exec(
        *command, env={**os.environ, **env, "PYTHONPATH": root}, cwd=root
    )
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status in (200, 404):
                        return server, base
            except aiohttp.ClientError:
                pass
            if server.returncode is not None:
                raise RuntimeError(f"{app} exited during start-up")
            await asyncio.sleep(0.1)
    server.terminate()
    await server.wait()
    raise RuntimeError(f"{app} did not become ready in 30 s")


async def start_kurobara(data_dir: Path, host: ImageHost) -> tuple[asyncio.subprocess.Process, str]:
    url = f"sqlite+aiosqlite:///{data_dir / 'kurobara.db'}"
    await upgrade(url)
    providers = data_dir / "providers.yaml"
    definition = {"id": PROVIDER, "name": "Image host", "kind": "madara", "url": host.url}
    providers.write_text(yaml.safe_dump({"providers": [definition]}))
    env = {
        "KUROBARA_DATABASE_URL": url,
        "KUROBARA_DATA_DIR": str(data_dir),
        "KUROBARA_SECRET_KEY": SECRET,
        "KUROBARA_MONITOR_ENABLED": "false",
        "KUROBARA_LIBRARY_UPDATES_ENABLED": "false",
        "KUROBARA_BUILTIN_PROVIDERS": "false",
        "KUROBARA_PROVIDERS_FILE": str(providers),
    }
    return await start_uvicorn("kurobara.app:create_app", env)


# -- measuring ----------------------------------------------------------------------------


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # ms
    seconds: float = 0.0
    errors: int = 0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


async def load(base: str, paths: list[str], requests: int, concurrency: int) -> Result:
    result = Result()
    connector = aiohttp.TCPConnector(limit=concurrency)
    queue = iter(range(requests))

    async def worker(http: aiohttp.ClientSession) -> None:
        for i in queue:
            started = time.perf_counter()
            async with http.get(base + paths[i % len(paths)]) as response:
                body = await response.read()
                if response.status != 200 or len(body) != PAGE_BYTES:
                    result.errors += 1
            result.latencies.append((time.perf_counter() - started) * 1000)

    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


async def readers_of_one_chapter(base: str, paths: list[str]) -> Result:
    """``READERS`` readers open the same uncached chapter at once, each page in order."""
    result = Result()
    connector = aiohttp.TCPConnector(limit=READERS * 2)

    async def reader(http: aiohttp.ClientSession) -> None:
        for path in paths:
            started = time.perf_counter()
            async with http.get(base + path) as response:
                body = await response.read()
                if response.status != 200 or len(body) != PAGE_BYTES:
                    result.errors += 1
            result.latencies.append((time.perf_counter() - started) * 1000)

    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*(reader(http) for _ in range(READERS)))
        result.seconds = time.perf_counter() - started
    return result


def row(name: str, r: Result) -> str:
    return (
        f"| {name} | {r.rate:.0f} | {r.pct(0.5):.2f} | {r.pct(0.99):.2f} | "
        f"{r.rate * PAGE_BYTES / 1024 / 1024:.0f} | {r.errors} |"
    )


async def main_async(requests: int, rounds: int, concurrency: int) -> None:
    host = ImageHost()
    host.start()
    signer = ImageSigner(SECRET)
    referer = f"{host.url}/manga/bench/chapter-1/"
    tokens = [
        signer.sign(ImageRef(PROVIDER, "page", f"{host.url}/img/{n}.jpg", referer=referer))
        for n in range(1, PAGES + 1)
    ]
    proxy_paths = [f"/api/v1/images/{token}" for token in tokens]
    static_paths = [f"/{n}.jpg" for n in range(1, PAGES + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "static").mkdir()
        for n in range(1, PAGES + 1):
            (root / "static" / f"{n}.jpg").write_bytes(page_bytes(n))
        kurobara, proxy_base = await start_kurobara(root, host)
        static, static_base = await start_uvicorn(
            "bench.images:static_app", {"BENCH_STATIC_DIR": str(root / "static")}
        )
        try:
            uncached = await readers_of_one_chapter(proxy_base, proxy_paths)
            fetches = dict(host.hits)
            # Warm both (the static server's page cache, the proxy's connections).
            await load(static_base, static_paths, 200, concurrency)
            await load(proxy_base, proxy_paths, 200, concurrency)
            static_runs, proxy_runs = [], []
            for _ in range(rounds):
                static_runs.append(await load(static_base, static_paths, requests, concurrency))
                proxy_runs.append(await load(proxy_base, proxy_paths, requests, concurrency))
        finally:
            for process in (kurobara, static):
                process.terminate()
                await process.wait()
            host.server.stop()

    def median(runs: list[Result]) -> Result:
        return sorted(runs, key=lambda r: r.rate)[len(runs) // 2]

    s, p = median(static_runs), median(proxy_runs)
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}")
    print(f"{PAGES} pages of {PAGE_BYTES // 1024} KiB; cached: {requests} requests at "
          f"concurrency {concurrency}, median of {rounds} round(s)\n")  # fmt: skip
    print("| server | req/s | p50 ms | p99 ms | MiB/s | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    print(row("static files (StaticFiles)", s))
    print(row("Kurobara proxy, cached", p))
    print(
        f"\nproxy/static cost (static req/s / proxy req/s): {s.rate / p.rate:.2f}x, "
        f"p50 {p.pct(0.5) / s.pct(0.5):.2f}x, p99 {p.pct(0.99) / s.pct(0.99):.2f}x (goal <= 1.5x)"
    )
    per_image = sorted(set(fetches.values()))
    print(
        f"\n{READERS} readers of one uncached chapter ({READERS * PAGES} image requests): "
        f"{sum(fetches.values())} upstream fetches for {len(fetches)} images "
        f"(per image: {per_image}), p50 {uncached.pct(0.5):.1f} ms, "
        f"p99 {uncached.pct(0.99):.1f} ms, {uncached.errors} errors"
    )
    print(f"statistics: static p50 spread {statistics.pstdev(r.pct(0.5) for r in static_runs):.2f}"
          f" ms, proxy {statistics.pstdev(r.pct(0.5) for r in proxy_runs):.2f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 000 requests, one round")
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    requests, rounds = (1000, 1) if args.quick else (4000, 3)
    asyncio.run(main_async(requests, rounds, args.concurrency))


if __name__ == "__main__":
    main()
