"""API shapes of failover: linking a source, the preferred source, match suggestions and the
migration proposals with their candidates."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kurobara.manga.schemas import ExternalIdField, ProviderIdField

MAX_BATCH = 500


class LinkRequest(BaseModel):
    """Body of ``POST /manga/{id}/sources``: a provider's listing of the same series."""

    model_config = ConfigDict(extra="forbid")

    provider_id: ProviderIdField
    external_id: ExternalIdField


class PreferredSourceRequest(BaseModel):
    """Body of ``PUT /manga/{id}/preferred-source``; ``source_id`` null forgets the choice."""

    model_config = ConfigDict(extra="forbid")

    source_id: uuid.UUID | None


class PreferredSourceRead(BaseModel):
    manga_id: uuid.UUID
    source_id: uuid.UUID | None


class MatchRead(BaseModel):
    """A listing that may be the same series; ``linked_manga_id`` when it is already another
    manga of the catalog (linking it is refused: two manga are never merged)."""

    model_config = ConfigDict(from_attributes=True)

    provider_id: str
    provider_name: str
    external_id: str
    title: str
    cover_url: str | None
    url: str | None
    year: int | None
    score: float
    linked_manga_id: uuid.UUID | None


class CandidateRead(BaseModel):
    id: uuid.UUID
    provider_id: str
    provider_name: str
    provider_status: str | None
    usable: bool
    external_id: str
    title: str
    cover_url: str | None
    url: str | None
    year: int | None
    score: float
    chapter_count: int
    latest_chapter: str | None
    found_at: datetime
    linked_manga_id: uuid.UUID | None


class MigrationRead(BaseModel):
    """One library entry that needs another source: its manga, the dead provider (``reason``:
    down, disabled, removed; ``since``), when candidates were searched for, and them, best
    first."""

    manga_id: uuid.UUID
    title: str
    cover_url: str | None
    is_favorite: bool
    provider_id: str
    provider_name: str
    reason: str
    since: datetime
    scanned_at: datetime | None
    candidates: list[CandidateRead]


class AcceptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    candidate_id: uuid.UUID


class AcceptedRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    manga_id: uuid.UUID
    source_id: uuid.UUID
    provider_id: str
    external_id: str


class AcceptBestRequest(BaseModel):
    """Body of ``POST /migrations/accept-best``: accept the best candidate of every entry (or
    of ``manga_ids``) that scores at least ``min_score``."""

    model_config = ConfigDict(extra="forbid")

    min_score: float = Field(ge=0, le=100)
    manga_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)


class BatchFailure(BaseModel):
    manga_id: uuid.UUID
    message: str


class AcceptBestRead(BaseModel):
    accepted: list[AcceptedRead]
    left: list[uuid.UUID]
    failed: list[BatchFailure]


class ScoutReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    dead: int
    new_needs: int
    scanned: int
    notices: int
    sent: int
