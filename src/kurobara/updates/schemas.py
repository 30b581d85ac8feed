"""Request and response shapes of library updates, the Updates feed and notification settings
(issue 11's names: ``run_id``, ``status``, ``done``, ``total``, ``outcomes``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from kurobara.library.schemas import MangaSummary, SafeText
from kurobara.updates import rules


class RunStarted(BaseModel):
    run_id: uuid.UUID
    status: Literal["running", "done"]
    total: int
    joined: bool  # a run of the same scope was already going: this is that run


class OutcomeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    manga_id: uuid.UUID
    manga_title: str
    source_id: uuid.UUID
    provider_id: str
    outcome: Literal["new_chapters", "no_change", "skipped", "failed"] | None  # None: pending
    new_chapters: int
    reason: str | None
    error_kind: str | None
    error_message: str | None


class RunRead(BaseModel):
    run_id: uuid.UUID
    status: Literal["running", "done"]
    trigger: str
    scope: str
    provider_id: str | None
    created_at: datetime
    finished_at: datetime | None
    done: int
    total: int
    outcomes: list[OutcomeRead]


class ScheduleRead(BaseModel):
    interval_hours: int
    skip_completed: bool
    last_scheduled_at: datetime | None
    next_run_at: datetime


class ScheduleChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interval_hours: int | None = Field(
        default=None, ge=rules.MIN_INTERVAL_HOURS, le=rules.MAX_INTERVAL_HOURS
    )
    skip_completed: bool | None = None


class FeedQuery(BaseModel):
    page: int = Field(default=1, ge=1, le=1_000_000)
    limit: int = Field(default=50, ge=1, le=200)


class FeedItemRead(BaseModel):
    manga_id: uuid.UUID
    chapter_id: uuid.UUID
    number: str | None
    title: str | None
    volume: str | None
    published_at: datetime | None
    first_seen_at: datetime
    read: bool
    manga: MangaSummary


NotifyUrl = Annotated[SafeText, Field(min_length=3, max_length=1000)]


class NotificationsRead(BaseModel):
    urls: list[str]
    scope: Literal["favorites", "library", "off"]


class NotificationsChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urls: list[NotifyUrl] | None = Field(default=None, max_length=10)
    scope: Literal["favorites", "library", "off"] | None = None
