"""Pydantic shapes of the downloads API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

MAX_CHAPTERS = 500


class QueueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chapter_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_CHAPTERS)


class MangaDownloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # "unread": the chapters the caller has not marked read; "all": every listed chapter.
    chapters: Literal["all", "unread"] = "unread"


class DownloadRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    chapter_id: uuid.UUID
    manga_id: uuid.UUID
    manga_title: str
    chapter_number: str | None
    chapter_title: str | None
    provider_id: str
    origin: Literal["user", "rule"]
    state: Literal["queued", "running", "waiting", "done", "failed"]
    reason: str | None = Field(description="why it waits or failed")
    attempts: int
    pages_done: int
    page_count: int | None
    progress: float = Field(ge=0, le=1)
    size_bytes: int | None
    created_at: datetime
    done_at: datetime | None


class UsageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    bytes: int = Field(description="size of the caller's finished downloads")
    chapters: int = Field(description="finished downloads")
    pending: int = Field(description="downloads not finished (queued, running, waiting, failed)")


class DownloadRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    favorites_new_chapters: bool


class DownloadRuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    favorites_new_chapters: StrictBool
