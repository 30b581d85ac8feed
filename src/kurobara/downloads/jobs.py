"""The Downloader: one component with ``start()``/``stop()`` (run by ``serve`` in every replica;
``KUROBARA_DOWNLOADS_WORKER=false`` leaves it out), whose loop is ``while not stopping: await
tick()``.

A tick asks the monitor about every provider with claimable chapters: a provider that is down,
switched off or no longer configured has its chapters ``waiting`` with the reason, without a
request (they do not fail-loop; the next tick after it is back takes them). It then leases
chapters up to the free slots (``download_concurrency``). Each chapter's pages are listed by
its provider and fetched through the image proxy (the provider's headers, Referer and rate
limit; a page a reader already cached is not fetched again), written one file per page, then
packed into the CBZ. A chapter whose lease expires (its replica died) is taken over by
another Downloader, which keeps the pages on disk and fetches only the rest. ``step()`` is one
tick that waits for its chapters: what the tests call.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from kurobara.background import tick_until_stopped
from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.downloads import claims, rules
from kurobara.downloads.files import DownloadFiles
from kurobara.images.cbz import ComicMeta
from kurobara.images.service import ImageProxy, ImageUnavailable
from kurobara.images.tokens import ImageRef
from kurobara.manga.models import Manga
from kurobara.monitoring.checker import replica_id
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.providers.base import Page
from kurobara.providers.errors import ParseFailure, ProviderError
from kurobara.providers.registry import ProviderRegistry
from kurobara.reading import service as reading_service
from kurobara.reading.models import StoredChapter

logger = logging.getLogger("kurobara.downloads")

IDLE_POLL_SECONDS = 5.0
ERROR_BACKOFF_SECONDS = 5.0


class NotOurs(Exception):
    """The chapter was deleted, or taken over after our lease expired: stop working on it."""


@dataclass(frozen=True)
class Job:
    chapter_id: uuid.UUID
    manga_id: uuid.UUID
    provider_id: str
    external_id: str
    url: str | None
    meta: ComicMeta


def downloads_root(settings: Settings) -> DownloadFiles:
    return DownloadFiles(settings.data_dir / "downloads")


class Downloader:
    def __init__(
        self,
        *,
        db: Database,
        registry: ProviderRegistry,
        images: ImageProxy,
        settings: Settings,
        clock: Clock | None = None,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.images = images
        self.settings = settings
        self.files = downloads_root(settings)
        self.clock: Clock = clock or SystemClock()
        self.owner = owner or f"{replica_id()}:downloads"
        self.concurrency = settings.download_concurrency
        self._running: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name="downloader")
        logger.info("downloader starting owner=%s", self.owner)

    async def stop(self) -> None:
        """Cancel chapters in flight and hand them back (queued; their pages stay on disk)."""
        self._stopping.set()
        self._wake.set()
        tasks = [t for t in [self._task, *self._running] if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        async with self.db.session() as session:
            await claims.release_leases(db_session=session, owner=self.owner, now=self.clock.now())
        logger.info("downloader stopped owner=%s", self.owner)

    def wake(self) -> None:
        """Something was queued: look now instead of at the next poll."""
        self._wake.set()

    # -- one unit of work -------------------------------------------------------------------

    async def tick(self) -> int:
        return len(await self._tick())

    async def step(self) -> int:
        """One tick, waiting for the chapters it started; the number it started."""
        started = await self._tick()
        await asyncio.gather(*started, return_exceptions=True)
        return len(started)

    async def _tick(self) -> list[asyncio.Task[None]]:
        now = self.clock.now()
        free = self.concurrency - len(self._running)
        async with self.db.session() as session:
            providers = await claims.pending_providers(db_session=session, now=now)
            # One table per transaction while idle-polling: a poll then never takes part in a
            # lock-order deadlock (with a TRUNCATE, a migration) across two tables.
            await session.commit()
            states = await reading_service.provider_states(
                db_session=session, provider_ids=providers
            )
            await session.commit()
            allowed = []
            for provider_id in providers:
                skip = reading_service.skip_reason(
                    self.registry, provider_id, states.get(provider_id), skip_down=True
                )
                if skip is None:
                    allowed.append(provider_id)
                    continue
                reason = rules.wait_reason(skip)
                if await claims.wait_provider(
                    db_session=session, provider_id=provider_id, reason=reason, now=now
                ):
                    logger.info("downloads waiting provider=%s reason=%s", provider_id, reason)
            won = await claims.claim(
                db_session=session,
                provider_ids=allowed,
                owner=self.owner,
                now=now,
                limit=free,
                lease_until=self._lease_until(),
            )
        started = []
        for chapter_id in won:
            task = asyncio.create_task(self._download(chapter_id), name=f"download-{chapter_id}")
            self._running.add(task)
            task.add_done_callback(self._finished)
            started.append(task)
        return started

    def _lease_until(self) -> Any:
        return rules.lease_until(self.clock.now(), self.settings.download_lease_seconds)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            logger.error("download crashed", exc_info=task.exception())

    async def _job(self, chapter_id: uuid.UUID) -> Job | None:
        async with self.db.session() as session:
            row = (
                await session.execute(
                    select(StoredChapter, Manga.title)
                    .join(Manga, Manga.id == StoredChapter.manga_id)
                    .where(StoredChapter.id == chapter_id)
                )
            ).first()
            await session.commit()
        if row is None:
            return None
        chapter, title = row
        meta = ComicMeta(
            series=title,
            title=chapter.title,
            number=chapter.number_text,
            web=chapter.url,
            language=chapter.language,
        )
        return Job(
            chapter.id, chapter.manga_id, chapter.provider_id, chapter.external_id, chapter.url,
            meta,
        )  # fmt: skip

    async def _download(self, chapter_id: uuid.UUID) -> None:
        job = await self._job(chapter_id)
        if job is None:
            return  # the chapter left the catalog; its download row went with it
        try:
            size = await self._fetch(job)
        except NotOurs:
            logger.info("download dropped chapter=%s (deleted or taken over)", chapter_id)
            await self._drop_if_gone(job)
            return
        except (ProviderError, ImageUnavailable) as exc:
            await self._failed(job, exc)
            return
        async with self.db.session() as session:
            won = await claims.finish(
                db_session=session,
                chapter_id=chapter_id,
                owner=self.owner,
                size_bytes=size,
                now=self.clock.now(),
            )
        if won:
            logger.info("downloaded chapter=%s provider=%s bytes=%d", chapter_id,
                        job.provider_id, size)  # fmt: skip
        else:
            await self._drop_if_gone(job)

    async def _fetch(self, job: Job) -> int:
        """Every page on disk, then the CBZ; its size. Raises ``NotOurs``, ``ProviderError``
        or ``ImageUnavailable``."""
        provider = self.registry.get(job.provider_id)
        pages: list[Page] = await provider.get_pages(job.external_id)
        if not pages:
            raise ParseFailure(f"the site lists no pages for chapter {job.external_id}")
        on_disk = await asyncio.to_thread(self.files.written_pages, job.manga_id, job.chapter_id)
        written = set(on_disk)
        await self._progress(job, len(written), len(pages))
        for number, page in enumerate(pages, start=1):
            if number in written:
                continue
            ref = ImageRef(
                job.provider_id, "page", page.url, referer=job.url, chapter=job.external_id
            )
            media_type, data = await self.images.fetch(ref)
            await asyncio.to_thread(
                self.files.write_page, job.manga_id, job.chapter_id, number, media_type, data
            )
            written.add(number)
            await self._progress(job, len(written), len(pages))
        meta = replace(job.meta, page_count=len(pages))
        return await asyncio.to_thread(
            self.files.assemble, job.manga_id, job.chapter_id, len(pages), meta
        )

    async def _progress(self, job: Job, done: int, count: int) -> None:
        async with self.db.session() as session:
            ours = await claims.record_progress(
                db_session=session,
                chapter_id=job.chapter_id,
                owner=self.owner,
                pages_done=done,
                page_count=count,
                lease_until=self._lease_until(),
                now=self.clock.now(),
            )
        if not ours:
            raise NotOurs(job.chapter_id)

    async def _failed(self, job: Job, exc: ProviderError | ImageUnavailable) -> None:
        """A failure while the monitor (meanwhile) has the provider down or off is a wait, not
        an attempt; anything else counts towards ``download_max_attempts``."""
        kind = exc.kind
        message = exc.message if isinstance(exc, ProviderError) else str(exc)
        async with self.db.session() as session:
            states = await reading_service.provider_states(
                db_session=session, provider_ids=[job.provider_id]
            )
            skip = reading_service.skip_reason(
                self.registry, job.provider_id, states.get(job.provider_id), skip_down=True
            )
            if skip is not None:
                await claims.wait(
                    db_session=session,
                    chapter_id=job.chapter_id,
                    owner=self.owner,
                    reason=rules.wait_reason(skip),
                    now=self.clock.now(),
                )
                return
            state = await claims.fail(
                db_session=session,
                chapter_id=job.chapter_id,
                owner=self.owner,
                kind=kind,
                message=message,
                max_attempts=self.settings.download_max_attempts,
                now=self.clock.now(),
            )
        logger.info("download failed chapter=%s provider=%s kind=%s now=%s", job.chapter_id,
                    job.provider_id, kind, state)  # fmt: skip

    async def _drop_if_gone(self, job: Job) -> None:
        """The download was deleted while we worked: remove what we wrote since."""
        async with self.db.session() as session:
            exists = await session.scalar(
                select(claims.CD.chapter_id).where(claims.CD.chapter_id == job.chapter_id)
            )
            await session.commit()
        if exists is None:
            await asyncio.to_thread(self.files.remove, job.manga_id, job.chapter_id)

    async def _loop(self) -> None:
        await tick_until_stopped(
            self._stopping, self._wake, self.tick, lambda: len(self._running) < self.concurrency,
            idle_seconds=IDLE_POLL_SECONDS, error_backoff_seconds=ERROR_BACKOFF_SECONDS,
            logger=logger, what="download",
        )  # fmt: skip


async def start_downloads(app: FastAPI, stack: AsyncExitStack) -> None:
    """Wire the Downloader into the app's lifespan, after the image proxy it fetches through."""
    state = app.state
    settings: Settings = state.settings
    state.downloader = None
    if not settings.downloads_worker:
        return
    downloader = Downloader(
        db=state.db,
        registry=state.registry,
        images=state.images,
        settings=settings,
        clock=state.clock,
    )
    await downloader.start()
    stack.push_async_callback(downloader.stop)
    state.downloader = downloader
