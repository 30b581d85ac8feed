"""Local archives on disk and the "local" provider that serves them through the reader.

Layout under ``<data_dir>/local/``::

    <manga key>/manga.json            title and summary of an uploaded manga
    <manga key>/<chapter key>.cbz     the chapter's pages, re-packed (see ``cbz.write_cbz``)
    <manga key>/<chapter key>.json    its title, number, page count and order

Keys are random hex made here, never taken from an upload. Each chapter has its own sidecar, so
two uploads into one manga at once never rewrite the same file. The provider is reached through
the registry like any site (``registry.get("local")``), so chapter lists and pages go through
``kurobara.reading`` unchanged; it is not a site, so it is left out of iteration (the monitor and
search iterate the registry).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from kurobara.images import cbz
from kurobara.images.archives import ArchiveContents, ArchiveRefused, sniff_image
from kurobara.providers.base import (
    Chapter,
    HealthCheckResult,
    MangaDetails,
    Page,
    Provider,
    SearchResult,
)
from kurobara.providers.definitions import ProviderDefinition
from kurobara.providers.errors import UnknownManga
from kurobara.providers.http import HttpClient

LOCAL_PROVIDER_ID = "local"
PAGE_URL_PREFIX = "/api/v1/local"
_KEY = re.compile(r"^[0-9a-f]{32}$")


def new_key() -> str:
    return uuid.uuid4().hex


def is_key(value: str) -> bool:
    return bool(_KEY.match(value))


def page_url(manga_key: str, chapter_key: str, index: int) -> str:
    return f"{PAGE_URL_PREFIX}/{manga_key}/{chapter_key}/{index}"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)


@dataclass(frozen=True)
class LocalChapter:
    key: str
    title: str
    number: str | None
    page_count: int
    order: str


class LocalStore:
    """The files of local manga. Blocking file work; callers run it in a thread."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def manga_dir(self, manga_key: str) -> Path:
        if not is_key(manga_key):
            raise UnknownManga(f"no local manga {manga_key!r}")
        return self.root / manga_key

    def create_manga(self, title: str, summary: str | None) -> str:
        key = new_key()
        folder = self.root / key
        folder.mkdir(parents=True)
        _write_json(folder / "manga.json", {"title": title, "summary": summary})
        return key

    def manga_info(self, manga_key: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(
                (self.manga_dir(manga_key) / "manga.json").read_text(encoding="utf-8")
            )
        except (FileNotFoundError, ValueError):
            raise UnknownManga(f"no local manga {manga_key!r}") from None
        return data

    def manga_keys(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if is_key(p.name) and p.is_dir())

    def chapters(self, manga_key: str) -> list[LocalChapter]:
        folder = self.manga_dir(manga_key)
        if not folder.is_dir():
            raise UnknownManga(f"no local manga {manga_key!r}")
        found = []
        for sidecar in folder.glob("*.json"):
            if not is_key(sidecar.stem) or not (folder / f"{sidecar.stem}.cbz").is_file():
                continue
            data = json.loads(sidecar.read_text(encoding="utf-8"))
            found.append(
                LocalChapter(
                    key=sidecar.stem,
                    title=data["title"],
                    number=data.get("number"),
                    page_count=int(data["pages"]),
                    order=data["order"],
                )
            )
        return sorted(found, key=lambda c: (c.order, c.key))

    def chapter(self, manga_key: str, chapter_key: str) -> LocalChapter:
        for chapter in self.chapters(manga_key):
            if chapter.key == chapter_key:
                return chapter
        raise UnknownManga(f"no local chapter {chapter_key!r}")

    def page(self, manga_key: str, chapter_key: str, index: int) -> tuple[str, bytes] | None:
        if not (is_key(manga_key) and is_key(chapter_key)):
            return None
        return cbz.read_page(self.root / manga_key / f"{chapter_key}.cbz", index)

    def add_chapters(
        self, manga_key: str, source: BinaryIO, contents: ArchiveContents, series: str
    ) -> list[str]:
        """Re-pack each chapter of a checked archive into a CBZ of its own; their keys. On any
        failure the chapters written so far are removed again."""
        folder = self.manga_dir(manga_key)
        written: list[str] = []
        stamp = f"{time.time_ns():020d}"
        try:
            with zipfile.ZipFile(source) as archive:
                for position, draft in enumerate(contents.chapters):
                    key = new_key()
                    pages = (_page(archive, name) for name in draft.pages)
                    meta = cbz.ComicMeta(series=series, title=draft.title, number=draft.number)
                    written.append(key)
                    cbz.write_cbz(folder / f"{key}.cbz", pages, meta)
                    sidecar = {
                        "title": draft.title,
                        "number": draft.number,
                        "pages": len(draft.pages),
                        "order": f"{stamp}-{position:05d}",
                    }
                    _write_json(folder / f"{key}.json", sidecar)
        except BaseException:
            self.remove_chapters(manga_key, written)
            raise
        return written

    def remove_chapters(self, manga_key: str, chapter_keys: list[str]) -> None:
        folder = self.manga_dir(manga_key)
        for key in chapter_keys:
            for suffix in (".cbz", ".json", ".cbz.part", ".json.part"):
                (folder / f"{key}{suffix}").unlink(missing_ok=True)

    def remove_manga(self, manga_key: str) -> None:
        shutil.rmtree(self.manga_dir(manga_key), ignore_errors=True)


def _page(archive: zipfile.ZipFile, name: str) -> tuple[str, bytes]:
    try:
        data = archive.read(name)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        # A CRC or size mismatch: the directory lied about the entry.
        raise ArchiveRefused("not_zip", f"entry {name!r} is damaged: {exc}") from exc
    media = sniff_image(data[:16])
    if media is None:
        raise ArchiveRefused("not_image", f"entry {name!r} is not an image")
    return media, data


def local_definition() -> ProviderDefinition:
    return ProviderDefinition(
        id=LOCAL_PROVIDER_ID,
        name="Local archives",
        kind="local",
        url="http://localhost/local",
        # Its pages never leave this server; no site to pace.
        rate_limit=100,
    )


class LocalProvider(Provider):
    """Manga uploaded as CBZ/ZIP; its pages are this server's own URLs."""

    kind = "local"

    def __init__(self, definition: ProviderDefinition, http: HttpClient, store: LocalStore) -> None:
        super().__init__(definition, http)
        self.store = store

    async def search(self, query: str, *, page: int = 1, limit: int = 20) -> list[SearchResult]:
        wanted = query.strip().lower()

        def find() -> list[SearchResult]:
            results = []
            for key in self.store.manga_keys():
                title = str(self.store.manga_info(key)["title"])
                if wanted in title.lower():
                    results.append(SearchResult(provider_id=self.id, external_id=key, title=title))
            return results

        found = await asyncio.to_thread(find)
        return found[(page - 1) * limit : page * limit]

    async def get_manga_details(self, external_id: str) -> MangaDetails:
        info = await asyncio.to_thread(self.store.manga_info, external_id)
        return MangaDetails(
            provider_id=self.id,
            external_id=external_id,
            title=str(info["title"]),
            description=info.get("summary"),
        )

    async def get_chapters(self, external_id: str) -> list[Chapter]:
        chapters = await asyncio.to_thread(self.store.chapters, external_id)
        return [
            Chapter(external_id=f"{external_id}/{c.key}", number=c.number, title=c.title)
            for c in chapters
        ]

    async def get_pages(self, chapter_id: str) -> list[Page]:
        manga_key, _, chapter_key = chapter_id.partition("/")
        if not (is_key(manga_key) and is_key(chapter_key)):
            raise UnknownManga(f"no local chapter {chapter_id!r}")
        chapter = await asyncio.to_thread(self.store.chapter, manga_key, chapter_key)
        return [
            Page(index=i, url=page_url(manga_key, chapter_key, i))
            for i in range(1, chapter.page_count + 1)
        ]

    async def health_check(self, timeout: float = 30) -> HealthCheckResult:
        started = time.perf_counter()
        ok = await asyncio.to_thread(
            lambda: not self.store.root.exists() or self.store.root.is_dir()
        )
        elapsed = int((time.perf_counter() - started) * 1000)
        if ok:
            return HealthCheckResult(ok=True, response_ms=elapsed)
        return HealthCheckResult(
            ok=False, response_ms=elapsed, error="local folder unreadable", error_kind="unexpected"
        )
