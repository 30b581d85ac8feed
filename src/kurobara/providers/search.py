"""Multi-provider search: ask every selected provider at once, each under its own deadline, and
report one outcome per provider beside the merged results.

The whole search takes as long as its slowest *answering* provider; one that hangs is cut at the
deadline, so a dead site never costs more than ``timeout`` and never the sum of all of them.
Monitoring plugs in through ``skip`` (providers known to be disabled or down, reported as
``skipped``) and ``on_provider_error`` (told about each failure, e.g. to check that provider early).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import MappingProxyType

from kurobara.providers.base import Provider, SearchResult
from kurobara.providers.errors import ProviderError, UnexpectedFailure
from kurobara.providers.http import with_deadline
from kurobara.providers.registry import ProviderRegistry
from kurobara.providers.schemas import SearchOutcome, SearchResponse

logger = logging.getLogger(__name__)

ErrorHook = Callable[[str, ProviderError], Awaitable[None]]
NOTHING_SKIPPED: Mapping[str, str] = MappingProxyType({})


class UnknownProviders(LookupError):
    """``providers=`` named ids that are not registered."""

    def __init__(self, provider_ids: Sequence[str]) -> None:
        self.provider_ids = list(provider_ids)
        names = ", ".join(repr(pid) for pid in self.provider_ids)
        super().__init__(f"unknown provider{'s' * (len(self.provider_ids) > 1)}: {names}")


def select_providers(
    registry: ProviderRegistry, provider_ids: Sequence[str] | None
) -> list[Provider]:
    """The providers a search asks, in registry order; all of them when ``provider_ids`` is
    empty or None."""
    if not provider_ids:
        return list(registry)
    unknown = [pid for pid in dict.fromkeys(provider_ids) if pid not in registry]
    if unknown:
        raise UnknownProviders(unknown)
    wanted = set(provider_ids)
    return [provider for provider in registry if provider.id in wanted]


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


async def _ask(
    provider: Provider,
    *,
    query: str,
    page: int,
    limit: int,
    timeout: float,
    on_provider_error: ErrorHook | None,
) -> tuple[SearchOutcome, list[SearchResult]]:
    started = time.perf_counter()
    try:
        results = await with_deadline(provider.search(query, page=page, limit=limit), timeout)
    except ProviderError as exc:
        error = exc
    except Exception as exc:
        # A bug in one kind must not turn the whole search into a 500.
        logger.exception("search provider=%s raised an unclassified error", provider.id)
        error = UnexpectedFailure(f"{type(exc).__name__}: {exc}")
    else:
        results = results[:limit]
        outcome = SearchOutcome(
            provider_id=provider.id,
            name=provider.name,
            status="ok",
            count=len(results),
            ms=_elapsed_ms(started),
        )
        return outcome, results
    ms = _elapsed_ms(started)
    logger.info("search provider=%s kind=%s ms=%d: %s", provider.id, error.kind, ms, error.message)
    if on_provider_error is not None:
        try:
            await on_provider_error(provider.id, error)
        except Exception:
            logger.exception("search provider=%s error hook failed", provider.id)
    outcome = SearchOutcome(
        provider_id=provider.id,
        name=provider.name,
        status="error",
        kind=error.kind,
        message=error.message,
        http_status=error.status_code,
        ms=ms,
    )
    return outcome, []


def _skipped(provider: Provider, reason: str) -> tuple[SearchOutcome, list[SearchResult]]:
    return SearchOutcome(
        provider_id=provider.id, name=provider.name, status="skipped", reason=reason
    ), []


def interleave(lists: Iterable[list[SearchResult]]) -> list[SearchResult]:
    """Round-robin by rank, so every provider's best matches come first."""
    return [
        result for rank in itertools.zip_longest(*lists) for result in rank if result is not None
    ]


async def search(
    *,
    registry: ProviderRegistry,
    query: str,
    provider_ids: Sequence[str] | None = None,
    page: int = 1,
    limit: int = 20,
    timeout: float,
    skip: Mapping[str, str] = NOTHING_SKIPPED,
    on_provider_error: ErrorHook | None = None,
) -> SearchResponse:
    """Search the selected providers concurrently. Raises ``UnknownProviders`` before asking
    anyone when ``provider_ids`` names an id that is not registered."""
    query = query.strip()
    providers = select_providers(registry, provider_ids)
    started = time.perf_counter()

    async def outcome_of(provider: Provider) -> tuple[SearchOutcome, list[SearchResult]]:
        # Whether a provider is enabled is the admin's call, kept by the monitor and passed in
        # ``skip``; the definition's ``enabled`` only seeds it.
        if provider.id in skip:
            return _skipped(provider, skip[provider.id])
        return await _ask(
            provider,
            query=query,
            page=page,
            limit=limit,
            timeout=timeout,
            on_provider_error=on_provider_error,
        )

    answers = await asyncio.gather(*(outcome_of(provider) for provider in providers))
    return SearchResponse(
        query=query,
        page=page,
        limit=limit,
        ms=_elapsed_ms(started),
        results=interleave(results for _, results in answers),
        providers=[outcome for outcome, _ in answers],
    )
