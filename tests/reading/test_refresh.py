"""``refresh_source_chapters``, the one place a source's chapter list is fetched and stored:
new chapters reported once, vanished ones kept with ``removed_at``, failures recorded, and the
admin's switch and the monitor's ``down`` honoured."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import select, update

from kurobara.db.engine import Database
from kurobara.manga.models import MangaSource
from kurobara.monitoring.models import ProviderStatus
from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from kurobara.providers.registry import ProviderRegistry
from kurobara.reading import service as reading_service
from kurobara.reading.models import ChapterSync, StoredChapter
from tests.factories import Persona
from tests.reading.conftest import import_manga


async def source_of(db: Database, manga_id: str) -> uuid.UUID:
    async with db.session() as session:
        source_id = await session.scalar(
            select(MangaSource.id).where(MangaSource.manga_id == uuid.UUID(manga_id))
        )
    assert source_id is not None
    return source_id


async def refresh(app: Any, source_id: uuid.UUID) -> reading_service.RefreshResult:
    registry: ProviderRegistry = app.state.registry
    async with app.state.db.session() as session:
        return await reading_service.refresh_source_chapters(
            db_session=session, registry=registry, source_id=source_id
        )


async def stored(db: Database, source_id: uuid.UUID) -> list[StoredChapter]:
    async with db.session() as session:
        rows = await session.scalars(
            select(StoredChapter)
            .where(StoredChapter.source_id == source_id)
            .order_by(StoredChapter.position)
        )
        return list(rows.all())


def english(site: FakeMangaDexSite, series_id: str) -> list[str]:
    return [item.id for item in site.feeds[series_id] if item.language == "en"]


async def test_first_refresh_stores_every_chapter_as_new(
    app: Any, client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, db: Database
) -> None:
    series = site.catalog.series[0]
    source_id = await source_of(db, (await import_manga(client, alice, series.id))["id"])
    result = await refresh(app, source_id)
    rows = await stored(db, source_id)
    assert (result.outcome, result.first_fetch) == ("refreshed", True)
    assert [row.external_id for row in rows] == english(site, series.id)
    assert list(result.new_chapter_ids) == [row.id for row in rows]
    assert rows[0].number_text == series.chapters[0].number
    assert rows[0].number == float(series.chapters[0].number)


async def test_a_second_refresh_reports_only_the_added_chapter(
    app: Any, client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, db: Database
) -> None:
    series = site.catalog.series[1]
    source_id = await source_of(db, (await import_manga(client, alice, series.id))["id"])
    await refresh(app, source_id)
    site.add_chapter(series.id)
    result = await refresh(app, source_id)
    rows = await stored(db, source_id)
    assert (result.new_count, result.first_fetch) == (1, False)
    assert result.new_chapter_ids == (rows[-1].id,)
    assert rows[-1].external_id == english(site, series.id)[-1]


async def test_vanished_chapters_are_kept_with_removed_at_and_come_back(
    app: Any, client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, db: Database
) -> None:
    series = site.catalog.series[2]
    source_id = await source_of(db, (await import_manga(client, alice, series.id))["id"])
    await refresh(app, source_id)
    feed = site.feeds[series.id]
    gone = next(item for item in feed if item.language == "en")
    site.feeds[series.id] = [item for item in feed if item is not gone]
    result = await refresh(app, source_id)
    by_id = {row.external_id: row for row in await stored(db, source_id)}
    assert (result.removed_count, result.new_count) == (1, 0)
    assert by_id[gone.id].removed_at is not None
    site.feeds[series.id] = feed
    await refresh(app, source_id)
    assert {row.external_id: row for row in await stored(db, source_id)}[gone.id].removed_at is None


async def test_concurrent_refreshes_report_each_new_chapter_once(
    app: Any, client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, db: Database
) -> None:
    series = site.catalog.series[3]
    source_id = await source_of(db, (await import_manga(client, alice, series.id))["id"])
    results = await asyncio.gather(*(refresh(app, source_id) for _ in range(3)))
    reported = [chapter_id for result in results for chapter_id in result.new_chapter_ids]
    assert sorted(reported) == sorted(row.id for row in await stored(db, source_id))


async def test_a_failure_is_recorded_and_keeps_the_stored_list(
    app: Any, client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, db: Database
) -> None:
    series = site.catalog.series[4]
    source_id = await source_of(db, (await import_manga(client, alice, series.id))["id"])
    await refresh(app, source_id)
    site.set_fault("layout")
    result = await refresh(app, source_id)
    assert (result.outcome, result.error_kind) == ("failed", "parse")
    assert len(await stored(db, source_id)) == len(english(site, series.id))
    async with db.session() as session:
        sync = await session.get(ChapterSync, source_id)
    assert sync is not None
    assert (sync.error_kind, sync.refreshed_at is not None) == ("parse", True)


async def set_provider(db: Database, **values: object) -> None:
    async with db.session() as session:
        await session.execute(
            update(ProviderStatus).where(ProviderStatus.provider_id == "md").values(**values)
        )
        await session.commit()


async def test_a_disabled_or_down_provider_is_not_asked(
    app: Any, client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, db: Database
) -> None:
    series = site.catalog.series[5]
    source_id = await source_of(db, (await import_manga(client, alice, series.id))["id"])
    before = site.requests
    await set_provider(db, is_enabled=False)
    disabled = await refresh(app, source_id)
    await set_provider(db, is_enabled=True, status="down", error_kind="timeout")
    down = await refresh(app, source_id)
    assert (disabled.outcome, disabled.reason) == ("skipped", "disabled")
    assert (down.outcome, down.reason, down.error_kind) == ("skipped", "down", "timeout")
    assert site.requests == before
    assert await stored(db, source_id) == []
