"""API shapes of the catalog: import requests, manga with their sources (chapter and page lists
are ``kurobara.reading.schemas``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it here keeps it a 422, not a driver error.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


ProviderIdField = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
ExternalIdField = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    AfterValidator(_no_nul),
]


class ImportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider_id: ProviderIdField
    external_id: ExternalIdField


class SourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    # What ``DELETE /manga/{id}/sources/{source_id}`` and the preferred source take.
    id: uuid.UUID
    provider_id: str
    external_id: str
    url: str | None


class MangaRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    alt_titles: list[str]
    description: str | None
    cover_image: str | None
    # The cover through this server (``/api/v1/images/...``); what a client should load.
    cover_url: str | None = None
    status: str | None
    year: int | None
    genres: list[str]
    nsfw: bool
    created_at: datetime
    updated_at: datetime
    sources: list[SourceRead]
