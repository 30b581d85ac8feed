"""HTTP client benchmark: the same N GET requests, bounded by the same concurrency, through
bare httpx, bare aiohttp and Kurobara's shared ``HttpClient``, in one run.

    .venv/bin/python bench/http_client.py                 # 2 000 requests, c = 5/50/200, 3 rounds
    .venv/bin/python bench/http_client.py --quick         # 1 000 requests, c = 5/50, 1 round

The site is bench/monitor.py's: a bare ASGI app under uvicorn + httptools in another process,
one path per "provider". Each case runs in a fresh process (so CPU and peak RSS are its own);
rounds are interleaved (httpx, aiohttp, client, httpx, ...) so that the machine's load drifts
over all three alike, and the table shows each mode's median round.

``HttpClient`` is measured as the monitor and the kinds use it: every request for its own
provider id, each registered with a rate limit (100/s) and a site policy as the registry does,
bodies read under the page cap, redirects checked.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.monitor import start_site

MODES = ("bare-httpx", "bare-aiohttp", "HttpClient")


@dataclass
class Case:
    mode: str
    requests: int
    concurrency: int
    site: str


def _usage() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


async def _httpx(case: Case) -> int:
    import httpx

    limits = httpx.Limits(max_connections=max(case.concurrency, 10))
    slots = asyncio.Semaphore(case.concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one(i: int) -> bool:
            async with slots:
                response = await client.get(f"{case.site}/p{i}")
                return response.status_code == 200

        return sum(await asyncio.gather(*(one(i) for i in range(case.requests))))


async def _aiohttp(case: Case) -> int:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=max(case.concurrency, 10))
    slots = asyncio.Semaphore(case.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> bool:
            async with slots, session.get(f"{case.site}/p{i}") as response:
                await response.read()
                return response.status == 200

        return sum(await asyncio.gather(*(one(i) for i in range(case.requests))))


async def _client(case: Case) -> int:
    from kurobara.providers.http import HttpClient
    from kurobara.providers.redirects import SitePolicy

    client = HttpClient(user_agent="bench", timeout=30, max_connections=max(case.concurrency, 10))
    for i in range(case.requests):
        client.add_site(f"p{i}", SitePolicy.for_site([f"{case.site}/p{i}"], rate=100))
    slots = asyncio.Semaphore(case.concurrency)

    async def one(i: int) -> bool:
        async with slots:
            response = await client.get(f"p{i}", f"{case.site}/p{i}")
            return response.status_code == 200

    try:
        return sum(await asyncio.gather(*(one(i) for i in range(case.requests))))
    finally:
        await client.aclose()


RUNNERS = {"bare-httpx": _httpx, "bare-aiohttp": _aiohttp, "HttpClient": _client}


def run_case(case: Case) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        cpu0, _ = _usage()
        started = time.perf_counter()
        ok = await RUNNERS[case.mode](case)
        wall = time.perf_counter() - started
        cpu1, rss = _usage()
        return {"ok": ok, "wall": wall, "cpu": cpu1 - cpu0, "rss": rss}

    return asyncio.run(main())


def measure(case: Case) -> dict[str, Any]:
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(run_case, (case,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 000 requests, c = 5/50, 1 round")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--concurrency", type=int, nargs="*", default=None)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    requests = args.requests or (1000 if args.quick else 2000)
    levels = args.concurrency or ([5, 50] if args.quick else [5, 50, 200])
    rounds = args.rounds or (1 if args.quick else 3)
    site_process, site = start_site()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# http client benchmark  python {platform.python_version()}  {platform.machine()}  "
          f"cpus={os.cpu_count()}  load={load}  requests={requests}  rounds={rounds}")  # fmt: skip
    print("| c | client | wall s | req/s | CPU ms / request | peak RSS MB | vs bare aiohttp |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    try:
        for level in levels:
            results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
            for _ in range(rounds):
                for mode in MODES:
                    result = measure(Case(mode, requests, level, site))
                    if result["ok"] != requests:
                        print(f"warning: {mode} got {result['ok']} of {requests}", file=sys.stderr)
                    results[mode].append(result)
            medians = {
                mode: {
                    key: statistics.median(r[key] for r in rows) for key in ("wall", "cpu", "rss")
                }
                for mode, rows in results.items()
            }
            for mode in MODES:
                m = medians[mode]
                ratio = m["wall"] / medians["bare-aiohttp"]["wall"]
                print(f"| {level} | {mode} | {m['wall']:.2f} | {requests / m['wall']:.0f} | "
                      f"{1000 * m['cpu'] / requests:.2f} | {m['rss']:.0f} | {ratio:.2f}x |",
                      flush=True)  # fmt: skip
    finally:
        site_process.terminate()
        site_process.join(5)
    print(f"# load after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
