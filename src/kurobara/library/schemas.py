"""Pydantic shapes of the library and favorites API (the seed's response examples) and of the
favorites export/import file."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

MAX_BULK_IDS = 500
MAX_IMPORT_ITEMS = 50_000
EXPORT_FORMAT: Literal["kurobara.favorites"] = "kurobara.favorites"
EXPORT_VERSION: Literal[1] = 1

SortBy = Literal["updated_at", "created_at", "title", "rating", "last_read_at"]
SortOrder = Literal["asc", "desc"]


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it here keeps it a 422 instead of a driver error.
    # (Lone surrogates never get this far: pydantic refuses them as invalid strings.)
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value.strip() if isinstance(value, str) else value


SafeText = Annotated[str, AfterValidator(_no_nul)]
CustomTitle = Annotated[
    Annotated[str, Field(max_length=255), AfterValidator(_no_nul)] | None,
    BeforeValidator(_blank_to_none),
]
Notes = Annotated[str, Field(max_length=10_000), AfterValidator(_no_nul)] | None
# 0 to 5 in half steps, or no rating at all.
Rating = Annotated[float, Field(ge=0, le=5, multiple_of=0.5, allow_inf_nan=False)] | None


class ListQuery(BaseModel):
    """Query parameters of ``GET /favorites/``; anything outside these ranges is a 422."""

    page: int = Field(default=1, ge=1, le=1_000_000)
    limit: int = Field(default=20, ge=1, le=100)
    search: Annotated[str, Field(max_length=200), AfterValidator(_no_nul)] | None = None
    sort_by: SortBy = "updated_at"
    sort_order: SortOrder = "desc"
    # Only entries with (true) or without (false) a listed chapter the user has not read.
    has_unread: bool | None = None


class LibraryQuery(ListQuery):
    """Query parameters of ``GET /library/``: the list, optionally only (non-)favorites."""

    is_favorite: bool | None = None


class MangaSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str | None
    cover_image: str | None
    # The cover through this server (``/api/v1/images/...``); what a client should load.
    cover_url: str | None = None
    status: str | None
    year: int | None
    nsfw: bool


class LibraryEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    manga_id: uuid.UUID
    is_favorite: bool
    custom_title: str | None
    rating: float | None
    notes: str | None
    favorited_at: datetime | None
    created_at: datetime
    updated_at: datetime
    manga: MangaSummary
    # Reading (``kurobara.reading``): chapters still listed and not read, when the user last
    # read in it, and the chapter "Continue" opens.
    unread_count: int = 0
    last_read_at: datetime | None = None
    next_chapter_id: uuid.UUID | None = None


class LibraryEntryChanges(BaseModel):
    """Body of ``POST`` and ``PATCH /library/{manga_id}``: only the fields sent are written;
    ``null`` clears a field (``is_favorite`` cannot be null)."""

    model_config = ConfigDict(extra="forbid")

    is_favorite: bool = False
    custom_title: CustomTitle = None
    rating: Rating = None
    notes: Notes = None

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class FavoriteStatus(BaseModel):
    manga_id: uuid.UUID
    is_favorite: bool


class FavoriteCount(BaseModel):
    count: int


class BulkFavoriteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    manga_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BULK_IDS)
    is_favorite: bool


class BulkFavoriteResult(BaseModel):
    updated: int
    is_favorite: bool
    manga_ids: list[uuid.UUID]


class ExportSource(BaseModel):
    provider_id: Annotated[SafeText, Field(min_length=1, max_length=100)]
    external_id: Annotated[SafeText, Field(min_length=1, max_length=255)]
    url: Annotated[SafeText, Field(max_length=1000)] | None = None


class ExportItem(BaseModel):
    manga_id: uuid.UUID
    title: str
    custom_title: str | None
    rating: float | None
    notes: str | None
    favorited_at: datetime | None
    created_at: datetime
    updated_at: datetime
    sources: list[ExportSource]


class FavoritesExport(BaseModel):
    format: Literal["kurobara.favorites"] = EXPORT_FORMAT
    version: Literal[1] = EXPORT_VERSION
    exported_at: datetime
    items: list[ExportItem]


class ImportItem(BaseModel):
    """One favorite of an export; timestamps and unknown keys are ignored on the way in."""

    manga_id: uuid.UUID | None = None
    title: Annotated[SafeText, Field(max_length=500)] | None = None
    custom_title: CustomTitle = None
    rating: Rating = None
    notes: Notes = None
    sources: list[ExportSource] = Field(default_factory=list, max_length=50)


class FavoritesImport(BaseModel):
    format: Literal["kurobara.favorites"] = EXPORT_FORMAT
    version: Literal[1] = EXPORT_VERSION
    items: list[ImportItem] = Field(max_length=MAX_IMPORT_ITEMS)


ImportStatus = Literal["imported", "already_present", "failed"]


class ImportItemResult(BaseModel):
    index: int
    title: str | None
    manga_id: uuid.UUID | None
    status: ImportStatus
    error: str | None = None


class ImportReport(BaseModel):
    imported: int
    already_present: int
    failed: int
    items: list[ImportItemResult]


ImportJobStatus = Literal["queued", "running", "done"]


class ImportJobRead(ImportReport):
    """A background import: the report's shape (the items decided so far, in file order) with
    the job's state and progress. ``progress`` is ``processed / total``, 0 to 1."""

    job_id: uuid.UUID
    status: ImportJobStatus
    total: int
    processed: int
    progress: float
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
