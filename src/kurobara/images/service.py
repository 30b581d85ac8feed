"""The image proxy: a signed token in, image bytes out, from the disk cache when it has them and
else from the provider's site (one upstream fetch per image however many readers ask at once).

Errors (``ImageError``, each with the HTTP status its route answers):

- ``ImageNotFound`` (404): the token is not ours, is malformed, or names a provider that is
  no longer configured. Nothing is looked up or fetched for it.
- ``ImageUnavailable`` (502): the site failed to give the image (its classified kind says why).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.images.cache import ImageCache, MiB
from kurobara.images.mangadex import AtHomeNodes
from kurobara.images.tokens import ImageRef, ImageSigner, InvalidToken
from kurobara.images.upstream import UpstreamImage, fetch_image
from kurobara.library.models import LibraryEntry
from kurobara.manga.models import Manga, MangaSource
from kurobara.providers.errors import ProviderError
from kurobara.providers.http import HttpClient
from kurobara.providers.mangadex import MangaDexProvider
from kurobara.providers.registry import ProviderRegistry

if TYPE_CHECKING:
    from kurobara.config import Settings
    from kurobara.db.engine import Database

logger = logging.getLogger(__name__)

# A cached file up to this size is read in one call on the event loop (from the page cache
# that is microseconds); larger ones are streamed from a worker thread.
INLINE_READ_BYTES = 2 * 1024 * 1024
PIN_RECHECK_SECONDS = 600.0


class ImageError(Exception):
    status_code = 500


class ImageNotFound(ImageError):
    status_code = 404


class ImageUnavailable(ImageError):
    status_code = 502

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class ServedImage:
    content_type: str
    content: bytes | None = None  # small images and fresh fetches
    stream: BinaryIO | None = None  # large cached files, opened, to be streamed
    size: int = 0
    cache: str = "miss"  # "hit" or "miss", sent as X-Cache


PinCheck = Callable[[ImageRef], Awaitable[bool]]


class ImageProxy:
    def __init__(
        self,
        *,
        signer: ImageSigner,
        cache: ImageCache,
        http: HttpClient,
        registry: ProviderRegistry,
        pin_check: PinCheck | None = None,
        nodes: AtHomeNodes | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.signer = signer
        self.cache = cache
        self.http = http
        self.registry = registry
        self.pin_check = pin_check
        self.nodes = nodes or AtHomeNodes()
        self.clock = clock
        self.upstream_fetches = 0
        self._pin_checked: dict[str, float] = {}
        self._hosts: dict[str, str] | None = None
        self._inflight: dict[str, asyncio.Future[UpstreamImage]] = {}

    def provider_for_url(self, url: str) -> str | None:
        """The configured provider whose own site has this URL's host (the first, if several)."""
        if self._hosts is None:
            self._hosts = {}
            for provider in self.registry:
                for site_url in provider.site_urls():
                    self._hosts.setdefault(_host(site_url), provider.id)
        return self._hosts.get(_host(url))

    def token(self, ref: ImageRef) -> str:
        return self.signer.sign(ref)

    def resolve(self, token: str) -> ImageRef:
        """The reference a token of ours carries, for a provider still configured."""
        try:
            ref = self.signer.verify(token)
        except InvalidToken as exc:
            raise ImageNotFound(str(exc)) from exc
        if ref.provider_id not in self.registry:
            raise ImageNotFound(f"provider {ref.provider_id!r} is not configured")
        return ref

    def cached(self, token: str) -> ServedImage | None:
        """A page the cache holds, without awaiting anything; None for anything else (covers
        too: a hit may pin them, which asks the database)."""
        try:
            ref = self.signer.verify(token)
        except InvalidToken:
            return None
        if ref.kind != "page" or ref.provider_id not in self.registry:
            return None
        return self._from_cache(ref)

    async def serve(self, token: str) -> ServedImage:
        ref = self.resolve(token)
        cached = self._from_cache(ref)
        if cached is not None:
            if ref.kind == "cover":
                await self._pin_if_library_cover(ref)
            return cached
        image = await self._single_flight(ref)
        return ServedImage(image.content_type, content=image.content, size=image.size)

    async def fetch(self, ref: ImageRef) -> tuple[str, bytes]:
        """One image's type and bytes for a caller inside the server (the downloader): from the
        cache when it has them, else fetched once, shared with readers asking at the same time.
        Raises ``ImageUnavailable`` as ``serve`` does."""
        cached = self._from_cache(ref)
        if cached is not None:
            if cached.content is not None:
                return cached.content_type, cached.content
            assert cached.stream is not None
            with cached.stream as handle:
                return cached.content_type, await asyncio.to_thread(handle.read)
        image = await self._single_flight(ref)
        return image.content_type, image.content

    def _from_cache(self, ref: ImageRef) -> ServedImage | None:
        entry = self.cache.get(ref.cache_key)
        if entry is None:
            return None
        try:
            handle = open(entry.path, "rb")  # noqa: SIM115 - closed below or by read_chunks
        except FileNotFoundError:  # removed by hand since the lookup
            return None
        if entry.size > INLINE_READ_BYTES:
            return ServedImage(entry.content_type, stream=handle, size=entry.size, cache="hit")
        with handle:
            content = handle.read()
        return ServedImage(entry.content_type, content=content, size=len(content), cache="hit")

    async def _single_flight(self, ref: ImageRef) -> UpstreamImage:
        key = ref.cache_key
        flight = self._inflight.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._fill(ref))
            self._inflight[key] = flight
            flight.add_done_callback(lambda _: self._inflight.pop(key, None))
        # A reader who goes away does not cancel the fetch the others are waiting for.
        return await asyncio.shield(flight)

    async def _fill(self, ref: ImageRef) -> UpstreamImage:
        provider = self.registry.get(ref.provider_id)
        self.upstream_fetches += 1
        try:
            if isinstance(provider, MangaDexProvider) and ref.kind == "page" and ref.chapter:
                image = await self.nodes.fetch_page(
                    self.http, provider, ref.url, chapter=ref.chapter
                )
            else:
                image = await fetch_image(self.http, provider, ref.url, referer=ref.referer)
        except ProviderError as exc:
            logger.info("image fetch failed provider=%s kind=%s status=%s", ref.provider_id,
                        exc.kind, exc.status_code)  # fmt: skip
            raise ImageUnavailable(exc.message, kind=exc.kind) from exc
        pinned = ref.kind == "cover" and self.pin_check is not None and await self.pin_check(ref)
        try:
            self.cache.put(ref.cache_key, image.content, image.content_type, pinned=pinned)
        except OSError as exc:  # a full or broken disk costs the cache, never the reader
            logger.warning("image cache write failed key=%s: %s", ref.cache_key, exc)
        return image

    async def _pin_if_library_cover(self, ref: ImageRef) -> None:
        """A cover cached before its manga joined a library is pinned when next shown; the
        question is asked at most once per ``PIN_RECHECK_SECONDS`` per cover."""
        key = ref.cache_key
        entry = self.cache.get(key)
        if entry is None or entry.pinned or self.pin_check is None:
            return
        now = self.clock()
        if now - self._pin_checked.get(key, -PIN_RECHECK_SECONDS) < PIN_RECHECK_SECONDS:
            return
        self._pin_checked[key] = now
        if await self.pin_check(ref):
            self.cache.pin(key)
            self._pin_checked.pop(key, None)


async def is_library_cover(*, db_session: AsyncSession, provider_id: str, url: str) -> bool:
    """Some user keeps a manga with this cover (from this provider) in their library."""
    query = select(
        exists()
        .where(Manga.cover_image == url)
        .where(MangaSource.manga_id == Manga.id, MangaSource.provider_id == provider_id)
        .where(LibraryEntry.manga_id == Manga.id)
    )
    return bool(await db_session.scalar(query))


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}:{parts.port or ''}"


def cache_root(data_dir: Path) -> Path:
    return data_dir / "images"


def read_chunks(handle: BinaryIO, chunk: int = 256 * 1024) -> Iterator[bytes]:
    """An open cached file in blocks (run in a worker thread by the response); closes it."""
    with handle:
        while block := handle.read(chunk):
            yield block


def open_image_proxy(settings: Settings, state: Any) -> ImageProxy:
    """The app's proxy: the instance key, the shared client and registry, the disk cache
    under the data directory (indexed from what an earlier run left) and the library check
    that pins covers."""
    cache = ImageCache(cache_root(settings.data_dir), max_bytes=int(settings.image_cache_mb * MiB))
    cache.load()
    db: Database = state.db

    async def pin_check(ref: ImageRef) -> bool:
        async with db.session() as session:
            return await is_library_cover(
                db_session=session, provider_id=ref.provider_id, url=ref.url
            )

    return ImageProxy(
        signer=ImageSigner(state.secret_key),
        cache=cache,
        http=state.http,
        registry=state.registry,
        pin_check=pin_check,
    )
