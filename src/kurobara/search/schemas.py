"""API shapes of search: a multi-provider search, its per-provider outcomes, and the events of
its streaming twin."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, computed_field

from kurobara.providers.base import SearchResult
from kurobara.providers.wording import in_words


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

    @computed_field(description="The failure in plain words (message keeps the raw text)")  # type: ignore[prop-decorator]
    @property
    def words(self) -> str | None:
        return (
            in_words(self.kind, self.message, self.http_status) if self.status == "error" else None
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


LanguageCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, pattern=r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})?$"
    ),
]


class SearchPreferencesRead(BaseModel):
    """What the caller's searches and browse lists show."""

    show_nsfw: bool = Field(description="NSFW providers asked and NSFW titles shown")
    languages: list[str] = Field(description="providers' languages to ask; empty: every one")
    available_languages: list[str] = Field(description="the registered providers' languages")


class SearchPreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    show_nsfw: StrictBool | None = None
    languages: list[LanguageCode] | None = Field(default=None, max_length=20)


class BrowsePage(BaseModel):
    """One page of a provider's discovery list. ``status``: ``ok`` (with ``results``),
    ``error`` (``kind`` and ``message``: the site failed) or ``skipped`` (``reason``: down,
    disabled, or left out by the user's preferences)."""

    provider_id: str
    name: str
    listing: str = Field(description="popular or latest")
    page: int
    lists: list[str] = Field(description="the lists this provider offers")
    status: Literal["ok", "error", "skipped"]
    results: list[RankedResult] = Field(default_factory=list)
    has_more: bool = False
    kind: str | None = None
    message: str | None = None
    reason: str | None = None
