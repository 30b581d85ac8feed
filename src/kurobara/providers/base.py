"""The provider interface and the types it returns.

A kind (``mangadex``, ``madara``, ``html``) subclasses ``Provider``, declares its ``Params`` model
(validated when the registry loads) and implements the four content methods. The health check is
shared: GET the health URL, expect 2xx (and the keyword when one is set), then run the canary
search when one is set — the only way to notice "site up, scraper broken" — and the full probe
(``providers/probe.py``) when the health block names one.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from kurobara.providers.definitions import ProviderDefinition
from kurobara.providers.errors import ParseFailure, ProviderError, UnexpectedFailure
from kurobara.providers.http import HttpClient, with_deadline
from kurobara.providers.probe import Probe, StageFailure
from kurobara.providers.redirects import SitePolicy


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class SearchResult(_Result):
    provider_id: str
    external_id: str
    title: str
    url: str | None = None
    cover_url: str | None = None
    description: str | None = None
    status: str | None = None
    year: int | None = None
    nsfw: bool = False


class MangaDetails(_Result):
    provider_id: str
    external_id: str
    title: str
    alt_titles: list[str] = Field(default_factory=list)
    description: str | None = None
    cover_url: str | None = None
    status: str | None = None  # ongoing, completed, hiatus, cancelled, or None when unknown
    year: int | None = None
    genres: list[str] = Field(default_factory=list)
    authors: list[str] = Field(default_factory=list)
    nsfw: bool = False
    url: str | None = None


class Chapter(_Result):
    external_id: str
    number: str | None = None  # "10", "10.5"; None for one-shots and extras
    title: str | None = None
    volume: str | None = None
    language: str | None = None
    scanlator: str | None = None
    published_at: datetime | None = None
    url: str | None = None
    # Every group credited with the scanlation (``scanlator`` joins them for display).
    groups: list[str] = Field(default_factory=list)
    # A chapter the source only links to (an official publisher's site): no pages here, the
    # reader links out instead.
    external_url: str | None = None


class Page(_Result):
    index: int  # 1-based, as a reader counts pages
    url: str


class HealthCheckResult(_Result):
    """The seed's ``(ok, response_ms, error)`` plus the error kind and HTTP status."""

    ok: bool
    response_ms: int | None = None
    error: str | None = None
    error_kind: str | None = None
    http_status: int | None = None
    # Which stage of the check failed (``providers/probe.py``: health, search, details,
    # chapters, pages, image); None when it passed.
    stage: str | None = None

    def as_tuple(self) -> tuple[bool, int | None, str | None]:
        return self.ok, self.response_ms, self.error

    @property
    def rate_limited(self) -> bool:
        """The site answered "too many requests" (or we are waiting out its ``Retry-After``):
        it is up, it is just not answering us now, so the monitor must not count it as down."""
        return not self.ok and self.error_kind == "rate_limited"

    @classmethod
    def failure(
        cls, exc: ProviderError, response_ms: int | None, stage: str | None = None
    ) -> HealthCheckResult:
        return cls(
            ok=False,
            response_ms=exc.elapsed_ms if exc.elapsed_ms is not None else response_ms,
            error=exc.message,
            error_kind=exc.kind,
            http_status=exc.status_code,
            stage=stage,
        )


class EmptyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


# The discovery lists a kind may offer (``Provider.browse``): the most followed or viewed
# titles, and those with the newest chapters.
POPULAR = "popular"
LATEST = "latest"
LISTINGS: tuple[str, ...] = (POPULAR, LATEST)


class UnsupportedListing(LookupError):
    """``browse`` was asked for a list this provider's kind does not offer."""

    def __init__(self, provider_id: str, listing: str) -> None:
        self.provider_id = provider_id
        self.listing = listing
        super().__init__(f"provider {provider_id!r} has no {listing!r} list")


class Provider(ABC):
    kind: ClassVar[str]
    Params: ClassVar[type[BaseModel]] = EmptyParams
    # The lists of ``LISTINGS`` this kind can browse; none unless the kind says so.
    listings: ClassVar[tuple[str, ...]] = ()

    def __init__(self, definition: ProviderDefinition, http: HttpClient) -> None:
        self.definition = definition
        self.http = http
        self.params: Any = self.Params.model_validate(definition.params)
        # The shared client learns the site's rate, hosts and allowed redirects here, so that a
        # provider made outside the registry (a test, a command) is held to them too.
        http.add_site(
            definition.id,
            SitePolicy.for_site(
                self.site_urls(),
                rate=definition.rate_limit,
                redirect_hosts=definition.redirect_hosts,
            ),
        )

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def url(self) -> str:
        return self.definition.url

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"

    @abstractmethod
    async def search(self, query: str, *, page: int = 1, limit: int = 20) -> list[SearchResult]:
        """Titles matching ``query``; an empty list when none match."""

    async def browse(self, listing: str, *, page: int = 1, limit: int = 20) -> list[SearchResult]:
        """One page of a discovery list (``popular``, ``latest``), in the site's order; an empty
        list past the last page. Kinds that offer lists override this and name them in
        ``listings``; the others answer ``UnsupportedListing``, as for an unknown list."""
        raise UnsupportedListing(self.id, listing)

    @abstractmethod
    async def get_manga_details(self, external_id: str) -> MangaDetails: ...

    @abstractmethod
    async def get_chapters(self, external_id: str) -> list[Chapter]:
        """Every chapter, oldest first."""

    @abstractmethod
    async def get_pages(self, chapter_id: str) -> list[Page]: ...

    def site_urls(self) -> list[str]:
        """The URLs whose hosts are this provider's own site (redirects may move among them)."""
        return [self.definition.url, self.definition.health_url]

    def image_headers(self) -> dict[str, str]:
        """Headers an image request needs (many scanlation sites check the Referer)."""
        return {"Referer": self.url + "/"}

    async def health_check(self, timeout: float = 30) -> HealthCheckResult:
        """Never raises: a failure is a result with its classified kind and the stage it
        failed in."""
        spec = self.definition.health
        timeout = spec.timeout or timeout
        started = time.perf_counter()
        response_ms: int | None = None
        stage = "health"

        def elapsed() -> int:
            # The health page's exchange when it answered, else the time the check took.
            return (
                response_ms
                if response_ms is not None
                else int((time.perf_counter() - started) * 1000)
            )

        try:
            response = await self.http.get(self.id, self.definition.health_url, timeout=timeout)
            # The exchange alone: a wait for this provider's rate-limit slot is not the site's.
            response_ms = response.elapsed_ms
            if spec.keyword and spec.keyword.lower() not in response.text.lower():
                raise ParseFailure(f"keyword {spec.keyword!r} not found on the health page")
            if spec.canary_query:
                stage = "search"
                remaining = max(0.1, timeout - (time.perf_counter() - started))
                results = await with_deadline(self.search(spec.canary_query), remaining)
                if not results:
                    raise ParseFailure(f"canary search {spec.canary_query!r} found nothing")
            if spec.probe is not None:
                await Probe(self, spec.probe, deadline=started + timeout).run()
        except StageFailure as failed:
            return HealthCheckResult.failure(failed.error, elapsed(), failed.stage)
        except ProviderError as exc:
            return HealthCheckResult.failure(exc, elapsed(), stage)
        except Exception as exc:
            return HealthCheckResult.failure(
                UnexpectedFailure(f"{type(exc).__name__}: {exc}"), elapsed(), stage
            )
        return HealthCheckResult(ok=True, response_ms=response_ms, http_status=response.status_code)
