"""Library update benchmark: one full update run of a library of 5 000 manga spread over 20
local fake sites (the ``html`` kind), 3 of them down, on SQLite and PostgreSQL.

    .venv/bin/python bench/library_update.py                   # 5 000 manga, 20 sites
    .venv/bin/python bench/library_update.py --manga 1000      # smaller
    .venv/bin/python bench/library_update.py --backends sqlite

Two runs per backend: the first fetch of every chapter list (every chapter is a new row), then
a steady-state run after 1 % of the series gained a chapter. Reported: manga/s, the outcome
counts, and per provider the requests per second over the run and the peak over any one-second
window (sampled every 0.1 s at the site), which must stay under the provider's rate limit.
PostgreSQL comes from ``--pg-url`` (default ``KUROBARA_BENCH_POSTGRES_URL``); it is wiped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import insert, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.db.migrate import upgrade
from kurobara.library.models import LibraryEntry
from kurobara.manga.models import Manga, MangaSource
from kurobara.monitoring import service as monitoring_service
from kurobara.monitoring.models import ProviderStatus
from kurobara.providers.fakes.html import FakeHtmlSite
from kurobara.providers.http import HttpClient
from kurobara.providers.registry import ProviderRegistry
from kurobara.updates import service
from kurobara.updates.jobs import LibraryUpdater
from kurobara.users.models import User

SITES = 20
DOWN = 3
RATE_LIMIT = 20.0  # requests per second per provider (the fake sites' definition)
SAMPLE_SECONDS = 0.1


def start_sites(count: int, per_site: int) -> list[FakeHtmlSite]:
    return [
        FakeHtmlSite(name=f"bench-{i:02d}", catalog_size=per_site).start() for i in range(count)
    ]


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def seed(db: Database, sites: list[FakeHtmlSite]) -> uuid.UUID:
    """One user whose library holds every series of every site (straight into the tables)."""
    user_id = uuid.uuid4()
    manga, sources, entries = [], [], []
    for site in sites:
        for series in site.catalog.series:
            manga_id = uuid.uuid4()
            manga.append(
                {
                    "id": manga_id,
                    "title": series.title,
                    "title_key": series.title.lower(),
                    "status": "ongoing",
                    "alt_titles": [],
                    "genres": [],
                    "nsfw": False,
                }
            )
            sources.append(
                {
                    "id": uuid.uuid4(),
                    "manga_id": manga_id,
                    "provider_id": site.name,
                    "external_id": series.slug,
                }
            )
            entries.append({"id": uuid.uuid4(), "user_id": user_id, "manga_id": manga_id,
                            "is_favorite": False})  # fmt: skip
    async with db.session() as session:
        await session.execute(
            insert(User).values(id=user_id, username="bench", username_key="bench",
                                email="bench@example.org", email_key="bench@example.org",
                                hashed_password="-")
        )  # fmt: skip
        for rows, model in ((manga, Manga), (sources, MangaSource), (entries, LibraryEntry)):
            for start in range(0, len(rows), 2000):
                await session.execute(insert(model).values(rows[start : start + 2000]))
        await session.commit()
    return user_id


async def sample(sites: list[FakeHtmlSite], stop: asyncio.Event) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = {site.name: [] for site in sites}
    while not stop.is_set():
        for site in sites:
            counts[site.name].append(site.requests)
        await asyncio.sleep(SAMPLE_SECONDS)
    return counts


def peak_per_second(series: list[int]) -> int:
    window = round(1 / SAMPLE_SECONDS)
    return max((series[i + window] - series[i] for i in range(len(series) - window)), default=0)


async def one_run(
    db: Database, updater: LibraryUpdater, user_id: uuid.UUID, sites: list[FakeHtmlSite]
) -> dict[str, Any]:
    before = {site.name: site.requests for site in sites}
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample(sites, stop))
    started_at = time.perf_counter()
    async with db.session() as session:
        started = await service.start_run(
            db_session=session, trigger="manual", scope="user", user_id=user_id,
            now=updater.clock.now(), skip_completed=True,
        )  # fmt: skip
    assert started is not None
    await updater.start()
    while True:
        await asyncio.sleep(0.2)
        async with db.session() as session:
            view = await service.get_run(db_session=session, run_id=started.run.id, user=None)
        if view.status == "done":
            break
    elapsed = time.perf_counter() - started_at
    await updater.stop()
    stop.set()
    samples = await sampler
    up = [s for s in sites if s.fault == "ok"]
    rates = {s.name: (s.requests - before[s.name]) / elapsed for s in up}
    peaks = {s.name: peak_per_second(samples[s.name]) for s in up}
    return {
        "elapsed": elapsed,
        "total": view.total,
        "outcomes": Counter(o.outcome for o in view.outcomes),
        "new": sum(o.new_chapters for o in view.outcomes),
        "rate_mean": sum(rates.values()) / len(rates),
        "rate_max": max(rates.values()),
        "peak": max(peaks.values()),
        "down_requests": sum(s.requests - before[s.name] for s in sites if s.fault != "ok"),
    }


async def bench(backend: str, url: str, sites: list[FakeHtmlSite], workdir: Path) -> None:
    if backend == "postgresql":
        await reset_postgres(url)
    await upgrade(url)
    providers = workdir / "providers.yaml"
    providers.write_text(yaml.safe_dump({"providers": [
        {**s.definition(), "rate_limit": RATE_LIMIT} for s in sites]}))  # fmt: skip
    values: dict[str, Any] = {
        "database_url": url,
        "builtin_providers": False,
        "providers_file": providers,
        "data_dir": workdir,
        "check_timeout": 10,
        "library_update_concurrency": 64,
        "library_update_provider_concurrency": 4,
    }
    settings = Settings(_env_file=None, **values)
    db = Database(url)
    http = HttpClient(user_agent="kurobara-bench", timeout=10)
    registry = ProviderRegistry.from_settings(settings, http)
    try:
        async with db.session() as session:
            await monitoring_service.sync_registry(
                db_session=session, registry=registry, settings=settings
            )
            down = [s.name for s in sites if s.fault != "ok"]
            await session.execute(
                update(ProviderStatus).where(ProviderStatus.provider_id.in_(down))
                .values(status="down", error_kind="connect")
            )  # fmt: skip
            await session.commit()
        user_id = await seed(db, sites)
        updater = LibraryUpdater(db=db, registry=registry, settings=settings)
        first = await one_run(db, updater, user_id, sites)
        for site in sites:  # 1 % of the series gain a chapter
            for series in site.catalog.series[::100]:
                site.add_chapter(series.slug)
        second = await one_run(db, updater, user_id, sites)
    finally:
        await http.aclose()
        await db.dispose()
    for name, run in (("first fetch", first), ("steady state", second)):
        o = run["outcomes"]
        print(
            f"{backend:10s} {name:12s} {run['total']:5d} manga in {run['elapsed']:6.1f} s = "
            f"{run['total'] / run['elapsed']:6.0f} manga/s | new={o['new_chapters']} "
            f"({run['new']} ch.) no_change={o['no_change']} skipped={o['skipped']} "
            f"failed={o['failed']} | req/s per provider mean {run['rate_mean']:.1f} "
            f"max {run['rate_max']:.1f}, peak 1 s window {run['peak']} (limit {RATE_LIMIT:g}) | "
            f"requests to down sites {run['down_requests']}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manga", type=int, default=5000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", default=os.environ.get("KUROBARA_BENCH_POSTGRES_URL"))
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]} on {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"{args.manga} manga over {SITES} sites ({DOWN} down), rate limit {RATE_LIMIT:g}/s each")
    for backend in args.backends:
        if backend == "postgresql" and not args.pg_url:
            print("postgresql: skipped (set --pg-url or KUROBARA_BENCH_POSTGRES_URL)")
            continue
        sites = start_sites(SITES, args.manga // SITES)
        for site in sites[:DOWN]:
            site.set_fault("down")
        try:
            with tempfile.TemporaryDirectory() as tmp:
                url = args.pg_url if backend == "postgresql" else (
                    f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")  # fmt: skip
                await bench(backend, url, sites, Path(tmp))
        finally:
            for site in sites:
                site.stop()


if __name__ == "__main__":
    asyncio.run(main())
