"""API shapes of search: a multi-provider search, its per-provider outcomes, and the events of
its streaming twin."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from kurobara.providers.base import SearchResult


class SearchOutcome(BaseModel):
    """What one provider did for a search: ``ok`` (with ``count``), ``error`` (with ``kind`` and
    ``message``), ``slow`` (it missed its learned deadline; ``kind`` is ``timeout``) or
    ``skipped`` (with ``reason``). ``ms`` is its own latency."""

    provider_id: str
    name: str
    status: Literal["ok", "error", "slow", "skipped"]
    count: int | None = None
    ms: int | None = None
    kind: str | None = Field(default=None, description="error kind, e.g. timeout, parse")
    message: str | None = None
    http_status: int | None = None
    reason: str | None = Field(default=None, description="why the provider was not asked")
    deadline_ms: int | None = Field(
        default=None, description="how long this search waited on it (learned per provider)"
    )


class SearchResponse(BaseModel):
    query: str
    page: int
    limit: int
    ms: int = Field(description="wall time of the whole search")
    results: list[SearchResult]
    providers: list[SearchOutcome]


class ProviderEvent(BaseModel):
    """``event: provider`` (an outcome as soon as it is known) and ``event: late`` (a provider
    reported ``slow`` answered after all): its outcome and its results."""

    outcome: SearchOutcome
    results: list[SearchResult]
    pending: int = Field(description="providers still being asked")


class RankedResult(SearchResult):
    also_on: list[SearchResult] = Field(
        default_factory=list, description="the same series on other providers"
    )
    manga_id: uuid.UUID | None = Field(default=None, description="in the catalog already")
    favorite: bool = Field(default=False, description="among the user's favorites")


class SearchSummary(BaseModel):
    """``event: summary``: every provider has an outcome. Results ranked (title match, then
    provider health and speed) and de-duplicated across providers; ``message`` says what
    happened in words."""

    query: str
    page: int
    limit: int
    ms: int
    results: list[RankedResult]
    providers: list[SearchOutcome]
    message: str
