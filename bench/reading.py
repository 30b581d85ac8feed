"""Reading benchmark: the library list with ``unread_count`` (and ``last_read_at``,
``next_chapter_id``) at 20 000 entries, against the same list without the reading summary.

    .venv/bin/python bench/reading.py                    # 20 000 entries, 12 chapters each
    .venv/bin/python bench/reading.py --quick            # 2 000 entries
    .venv/bin/python bench/reading.py --pg-url postgresql+asyncpg://...   # also PostgreSQL

One client, one request at a time: ``list_entries`` with and without ``with_reading`` (the
same service call the API makes), and ``GET /api/v1/library/`` through the ASGI app. A third
of the chapters are read, a few in progress, so every summary has something to find. The goal
(issue 11): p50 with the summary <= 2x p50 without. The PostgreSQL database is wiped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from kurobara.app import create_app
from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.db.migrate import upgrade
from kurobara.library import service
from kurobara.library.models import LibraryEntry
from kurobara.manga.models import Manga, MangaSource
from kurobara.reading.models import ChapterProgress, StoredChapter
from kurobara.users.models import User
from kurobara.users.security import create_access_token, hash_password

SECRET = "bench-secret-key-not-for-production"
CHUNK = 2_000
REQUESTS = 200


async def _bulk(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await conn.execute(insert(table), rows[start : start + CHUNK])


async def seed(url: str, entries: int, chapters: int) -> tuple[uuid.UUID, str]:
    rng = random.Random(11)
    now = datetime.now(UTC)
    hashed = await hash_password("bench-password")
    user_id = uuid.uuid4()
    user = {
        "id": user_id,
        "username": "reader",
        "username_key": "reader",
        "email": "reader@example.org",
        "email_key": "reader@example.org",
        "hashed_password": hashed,
        "created_at": now,
        "updated_at": now,
    }
    manga, sources, rows, progress, library = [], [], [], [], []
    for n in range(entries):
        manga_id, source_id = uuid.uuid4(), uuid.uuid4()
        manga.append(
            {
                "id": manga_id,
                "title": f"Bench {n:06d}",
                "title_key": f"bench {n:06d}",
                "alt_titles": [],
                "genres": [],
                "created_at": now,
                "updated_at": now,
            }
        )
        sources.append(
            {"id": source_id, "manga_id": manga_id, "provider_id": "bench", "external_id": str(n)}
        )
        library.append(
            {
                "id": uuid.uuid4(),
                "user_id": user_id,
                "manga_id": manga_id,
                "is_favorite": n % 3 == 0,
                "created_at": now - timedelta(seconds=n),
                "updated_at": now - timedelta(seconds=n),
            }
        )
        read_upto = rng.randrange(chapters + 1) if n % 3 == 0 else 0
        for position in range(chapters):
            chapter_id = uuid.uuid4()
            rows.append(
                {
                    "id": chapter_id,
                    "source_id": source_id,
                    "manga_id": manga_id,
                    "provider_id": "bench",
                    "external_id": f"{n}-{position}",
                    "number_text": str(position + 1),
                    "number": float(position + 1),
                    "position": position,
                    "first_seen_at": now,
                }
            )
            if position < read_upto:
                progress.append(
                    {
                        "id": uuid.uuid4(),
                        "user_id": user_id,
                        "chapter_id": chapter_id,
                        "manga_id": manga_id,
                        "read": True,
                        "read_at": now - timedelta(minutes=n),
                        "updated_at": now,
                    }
                )
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await _bulk(conn, User.__table__, [user])
        await _bulk(conn, Manga.__table__, manga)
        await _bulk(conn, MangaSource.__table__, sources)
        await _bulk(conn, LibraryEntry.__table__, library)
        await _bulk(conn, StoredChapter.__table__, rows)
        await _bulk(conn, ChapterProgress.__table__, progress)
    if url.startswith("postgresql"):
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    await engine.dispose()
    token = create_access_token(user_id=user_id, hashed_password=hashed, secret=SECRET, minutes=600)
    return user_id, token


async def p50(call: Callable[[], Awaitable[object]], requests: int) -> float:
    for _ in range(5):
        await call()
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        await call()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


async def run(url: str, entries: int, chapters: int, requests: int, data_dir: Path) -> None:
    await upgrade(url)
    user_id, token = await seed(url, entries, chapters)
    db = Database(url)

    def listing(with_reading: bool, sort_by: Any = "updated_at") -> Callable[[], Awaitable[object]]:
        async def call() -> object:
            async with db.session() as session:
                return await service.list_entries(
                    db_session=session,
                    user_id=user_id,
                    sort_by=sort_by,
                    with_reading=with_reading,
                )

        return call

    without = await p50(listing(False), requests)
    with_summary = await p50(listing(True), requests)
    by_last_read = await p50(listing(True, "last_read_at"), requests)
    await db.dispose()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        data_dir=data_dir,
        secret_key=SECRET,
        builtin_providers=False,
        monitor_enabled=False,
    )
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {token}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def api(query: str) -> object:
                response = await client.get(f"/api/v1/library/?{query}", headers=headers)
                response.raise_for_status()
                return response

            http_list = await p50(lambda: api("limit=20"), requests)
            http_unread = await p50(lambda: api("limit=20&has_unread=true"), requests)
    backend = url.split(":", 1)[0]
    print(f"\n{backend}: {entries} entries x {chapters} chapters, p50 of {requests}, one client")
    print(f"  list_entries without reading summary   {without:8.2f} ms")
    print(f"  list_entries with unread_count etc.     {with_summary:8.2f} ms")
    print(f"  ratio (goal <= 2x)                      {with_summary / without:8.2f} x")
    print(f"  list_entries sorted by last_read_at     {by_last_read:8.2f} ms")
    print(f"  GET /api/v1/library/?limit=20           {http_list:8.2f} ms")
    print(f"  GET /api/v1/library/?has_unread=true    {http_unread:8.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 000 entries")
    parser.add_argument("--chapters", type=int, default=12)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--pg-url", default=os.environ.get("KUROBARA_BENCH_POSTGRES_URL"))
    args = parser.parse_args()
    entries = 2_000 if args.quick else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        asyncio.run(
            run(f"sqlite+aiosqlite:///{path}/bench.db", entries, args.chapters, args.requests, path)
        )
        if args.pg_url:
            asyncio.run(_pg(args.pg_url, entries, args.chapters, args.requests, path))


async def _pg(url: str, entries: int, chapters: int, requests: int, path: Path) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    await run(url, entries, chapters, requests, path)


if __name__ == "__main__":
    main()
