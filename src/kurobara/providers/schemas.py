"""API shapes of the provider layer: a multi-provider search and its per-provider outcomes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from kurobara.providers.base import SearchResult


class SearchOutcome(BaseModel):
    """What one provider did for a search: ``ok`` (with ``count``), ``error`` (with ``kind`` and
    ``message``) or ``skipped`` (with ``reason``). ``ms`` is its own latency."""

    provider_id: str
    name: str
    status: Literal["ok", "error", "skipped"]
    count: int | None = None
    ms: int | None = None
    kind: str | None = Field(default=None, description="error kind, e.g. timeout, parse")
    message: str | None = None
    http_status: int | None = None
    reason: str | None = Field(default=None, description="why the provider was not asked")


class SearchResponse(BaseModel):
    query: str
    page: int
    limit: int
    ms: int = Field(description="wall time of the whole search")
    results: list[SearchResult]
    providers: list[SearchOutcome]
