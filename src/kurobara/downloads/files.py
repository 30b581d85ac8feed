"""The files of downloads under ``<data_dir>/downloads/``::

    <manga id>/<chapter id>.cbz          a finished chapter (see ``images.cbz.write_cbz``)
    <manga id>/<chapter id>.parts/0001.jpg  pages fetched so far, while it downloads

Names are this server's UUIDs (hex), never a site's text. A page is written under a temporary
name and renamed, so a page file that exists is whole: a Downloader resuming a chapter after a
crash keeps those pages and fetches only the others. Blocking file work; callers use a thread.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

from kurobara.images import cbz

PART_SUFFIX = ".part"


class DownloadFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def cbz_path(self, manga_id: uuid.UUID, chapter_id: uuid.UUID) -> Path:
        return self.root / manga_id.hex / f"{chapter_id.hex}.cbz"

    def parts_dir(self, manga_id: uuid.UUID, chapter_id: uuid.UUID) -> Path:
        return self.root / manga_id.hex / f"{chapter_id.hex}.parts"

    def written_pages(self, manga_id: uuid.UUID, chapter_id: uuid.UUID) -> dict[int, Path]:
        """The whole pages already on disk: index (1-based) -> file."""
        folder = self.parts_dir(manga_id, chapter_id)
        if not folder.is_dir():
            return {}
        found: dict[int, Path] = {}
        for path in folder.iterdir():
            stem = path.name.partition(".")[0]
            if stem.isdigit() and not path.name.endswith(PART_SUFFIX):
                found[int(stem)] = path
        return found

    def write_page(
        self, manga_id: uuid.UUID, chapter_id: uuid.UUID, index: int, media_type: str, data: bytes
    ) -> None:
        folder = self.parts_dir(manga_id, chapter_id)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / cbz.page_name(index, media_type)
        partial = final.with_name(final.name + PART_SUFFIX)
        partial.write_bytes(data)
        os.replace(partial, final)

    def assemble(
        self, manga_id: uuid.UUID, chapter_id: uuid.UUID, page_count: int, meta: cbz.ComicMeta
    ) -> int:
        """Pack the written pages 1..page_count into the chapter's CBZ (atomically), drop the
        parts; the CBZ's size in bytes. ``FileNotFoundError`` if a page is missing."""
        written = self.written_pages(manga_id, chapter_id)
        missing = [i for i in range(1, page_count + 1) if i not in written]
        if missing:
            raise FileNotFoundError(f"pages {missing} of chapter {chapter_id} are not on disk")

        def pages() -> list[tuple[str, bytes]]:
            return [
                (cbz.media_type_of(written[i].name), written[i].read_bytes())
                for i in range(1, page_count + 1)
            ]

        size = cbz.write_cbz(self.cbz_path(manga_id, chapter_id), pages(), meta)
        shutil.rmtree(self.parts_dir(manga_id, chapter_id), ignore_errors=True)
        return size

    def remove(self, manga_id: uuid.UUID, chapter_id: uuid.UUID) -> None:
        """The chapter's CBZ and any parts; its manga's folder too once empty."""
        path = self.cbz_path(manga_id, chapter_id)
        path.unlink(missing_ok=True)
        path.with_name(path.name + PART_SUFFIX).unlink(missing_ok=True)
        shutil.rmtree(self.parts_dir(manga_id, chapter_id), ignore_errors=True)
        # Other chapters may still be there (or it was gone already).
        with contextlib.suppress(OSError):
            path.parent.rmdir()

    def page(
        self, manga_id: uuid.UUID, chapter_id: uuid.UUID, index: int
    ) -> tuple[str, bytes] | None:
        return cbz.read_page(self.cbz_path(manga_id, chapter_id), index)
