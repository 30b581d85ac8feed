"""The full health probe: what a reader does, stage by stage — search, open the first result,
list its chapters, list one chapter's pages, fetch that chapter's first image the way the image
proxy fetches it (``images/upstream.py``: the provider's image headers, the chapter's page as
Referer). A failure carries the stage it happened in, so "site up, chapters broken" is told
apart from "site down".

Stages, in order (``STAGES``): ``health`` (the health page), ``search``, ``details``,
``chapters``, ``pages``, ``image``. The canary search of a plain check fails as ``search``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kurobara.images.upstream import fetch_image
from kurobara.providers.errors import (
    ParseFailure,
    ProviderError,
    ProviderTimeout,
    UnexpectedFailure,
)
from kurobara.providers.http import with_deadline

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from typing import TypeVar

    from kurobara.providers.base import Chapter, Provider
    from kurobara.providers.definitions import ProbeSpec

    T = TypeVar("T")

STAGES: tuple[str, ...] = ("health", "search", "details", "chapters", "pages", "image")


class StageFailure(Exception):
    """A probe stage failed with ``error`` (the classified provider error)."""

    def __init__(self, stage: str, error: ProviderError) -> None:
        super().__init__(f"{stage}: {error.message}")
        self.stage = stage
        self.error = error


def readable_chapter(chapters: list[Chapter]) -> Chapter | None:
    """The newest chapter that is read here (one hosted elsewhere has no pages to fetch)."""
    return next((c for c in reversed(chapters) if c.external_url is None), None)


class Probe:
    """One run of a probe against ``provider``, every stage inside one ``deadline``
    (``time.perf_counter()`` based)."""

    def __init__(self, provider: Provider, spec: ProbeSpec, deadline: float) -> None:
        self.provider = provider
        self.spec = spec
        self.deadline = deadline

    async def _stage(self, stage: str, call: Callable[[], Awaitable[T]]) -> T:
        """``call()`` under what is left of the deadline; its failure is this stage's."""
        remaining = self.deadline - time.perf_counter()
        try:
            if remaining <= 0:
                raise ProviderTimeout(f"no time left for the {stage} stage")
            return await with_deadline(call(), remaining)
        except ProviderError as exc:
            raise StageFailure(stage, exc) from exc
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            # A parser tripping over an odd page is still that stage's failure.
            unexpected = UnexpectedFailure(f"{type(exc).__name__}: {exc}")
            raise StageFailure(stage, unexpected) from exc

    async def run(self) -> None:
        provider = self.provider
        query = self.spec.query
        results = await self._stage("search", lambda: provider.search(query))
        if not results:
            raise StageFailure("search", ParseFailure(f"search {query!r} found nothing"))
        first = results[0]
        await self._stage("details", lambda: provider.get_manga_details(first.external_id))
        chapters = await self._stage("chapters", lambda: provider.get_chapters(first.external_id))
        chapter = readable_chapter(chapters)
        if chapter is None:
            raise StageFailure("chapters", ParseFailure(f"no readable chapter of {first.title!r}"))
        pages = await self._stage("pages", lambda: provider.get_pages(chapter.external_id))
        if not pages:
            raise StageFailure(
                "pages", ParseFailure(f"chapter {chapter.number or chapter.external_id}: no pages")
            )
        if self.spec.image:
            await self._stage(
                "image",
                lambda: fetch_image(provider.http, provider, pages[0].url, referer=chapter.url),
            )
