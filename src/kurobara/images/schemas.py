"""API shapes of local archives."""

from __future__ import annotations

from pydantic import BaseModel

from kurobara.manga.schemas import MangaRead
from kurobara.reading.schemas import ChapterRead


class UploadRead(BaseModel):
    """An upload's outcome: the manga (new or the one added to) and the chapters it stored."""

    manga: MangaRead
    created: bool
    chapters: list[ChapterRead]
