"""Multi-provider search: ask every selected provider at once, each under its own learned
deadline, and report one outcome per provider beside the merged results.

``stream`` yields each provider's outcome as soon as it is known (an answer, a failure, or
``slow`` when it misses its deadline), then a summary, then any late answers of slow providers
(they are cut at ``timeout``, ``KUROBARA_SEARCH_TIMEOUT``). ``search`` is the same run, returned
whole at the summary. A dead site never costs more than its deadline, and never the sum of all.
Monitoring plugs in through ``skip`` (providers known to be disabled or down, reported as
``skipped``) and ``on_provider_error`` (told about each failure, e.g. to check that provider early).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from kurobara.images.links import search_results_with_proxied_covers
from kurobara.providers.base import Provider, SearchResult
from kurobara.providers.errors import ProviderError, ProviderTimeout, UnexpectedFailure
from kurobara.providers.http import with_deadline
from kurobara.providers.registry import ProviderRegistry
from kurobara.search.ranking import ProviderStanding, rank
from kurobara.search.rules import visible_results
from kurobara.search.schemas import RankedResult, SearchOutcome, SearchResponse, SearchSummary

logger = logging.getLogger(__name__)

ErrorHook = Callable[[str, ProviderError], Awaitable[None]]
LatencyHook = Callable[[str, int], None]
# Error hooks still running, of every search (the event loop keeps only weak references).
_REPORTING: set[asyncio.Task[None]] = set()
# Failures that still show the site answering: no reason to cut its next deadline short.
ANSWERED_KINDS = frozenset({"rate_limited", "not_found"})
# How long past ``timeout`` a search still waits for a provider's own timeout to answer.
CAP_GRACE = 1.0
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


Answer = tuple[SearchOutcome, list[SearchResult]]


async def _ask(
    provider: Provider, *, query: str, page: int, limit: int, timeout: float, show_nsfw: bool
) -> tuple[SearchOutcome, list[SearchResult], ProviderError | None]:
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
        # Covers through this server's image proxy, never the source's address.
        results = search_results_with_proxied_covers(
            visible_results(results[:limit], show_nsfw=show_nsfw)
        )
        outcome = SearchOutcome(
            provider_id=provider.id,
            name=provider.name,
            status="ok",
            count=len(results),
            ms=_elapsed_ms(started),
        )
        return outcome, results, None
    ms = _elapsed_ms(started)
    logger.info("search provider=%s kind=%s ms=%d: %s", provider.id, error.kind, ms, error.message)
    outcome = SearchOutcome(
        provider_id=provider.id,
        name=provider.name,
        status="error",
        kind=error.kind,
        message=error.message,
        http_status=error.status_code,
        ms=ms,
    )
    return outcome, [], error


def _skipped(provider: Provider, reason: str) -> SearchOutcome:
    return SearchOutcome(
        provider_id=provider.id, name=provider.name, status="skipped", reason=reason
    )


def _slow(provider: Provider, deadline: float) -> SearchOutcome:
    return SearchOutcome(
        provider_id=provider.id,
        name=provider.name,
        status="slow",
        kind="timeout",
        message=f"no answer within its deadline of {deadline:.1f} s",
        ms=int(deadline * 1000),
        deadline_ms=int(deadline * 1000),
    )


def interleave(lists: Iterable[list[SearchResult]]) -> list[SearchResult]:
    """Round-robin by rank, so every provider's best matches come first."""
    return [
        result for rank in itertools.zip_longest(*lists) for result in rank if result is not None
    ]


FAILURE_WORDS = {
    "timeout": "timed out",
    "connect": "refused the connection",
    "dns": "could not be found (DNS)",
    "tls": "failed TLS",
    "http_status": "answered with an HTTP error",
    "bot_challenge": "showed a bot challenge",
    "bot_blocked": "is blocking us (firewall)",
    "rate_limited": "is rate-limiting us",
    "parse": "answered something unreadable",
    "too_large": "answered too much",
}


def _failure(outcome: SearchOutcome) -> str:
    if outcome.status == "slow":
        return f"{outcome.name} is slow (no answer within {outcome.ms} ms)"
    words = FAILURE_WORDS.get(outcome.kind or "", "failed")
    suffix = (
        f" {outcome.http_status}" if outcome.http_status and outcome.kind == "http_status" else ""
    )
    return f"{outcome.name} {words}{suffix}"


def summary_message(query: str, outcomes: Sequence[SearchOutcome], found: int) -> str:
    """What happened, in words. "Nothing found" only when every asked provider answered with
    zero results; a failure is never reported as an empty result."""
    asked = [o for o in outcomes if o.status != "skipped"]
    failed = [o for o in asked if o.status in ("error", "slow")]
    skipped = [o for o in outcomes if o.status == "skipped"]
    parts: list[str] = []
    if not asked:
        parts.append("No provider was asked.")
    elif not failed:
        parts.append(
            f"{found} result{'s' * (found != 1)} for “{query}” from "
            f"{len(asked)} provider{'s' * (len(asked) != 1)}."
            if found
            else f"Nothing found for “{query}”."
        )
    else:
        parts.append(
            f"{len(failed)} of {len(asked)} provider{'s' * (len(asked) != 1)} failed: "
            + ", ".join(_failure(o) for o in failed)
            + "."
        )
        if found:
            parts.append(f"{found} result{'s' * (found != 1)} from the others.")
    if skipped:
        names = ", ".join(f"{o.name} ({o.reason})" for o in skipped)
        parts.append(f"Not asked: {names}.")
    return " ".join(parts)


@dataclass(frozen=True)
class SearchEvent:
    """One step of a streamed search: ``provider`` (an outcome became known), ``summary``
    (every provider has one) or ``late`` (a provider reported slow answered after all)."""

    event: Literal["provider", "summary", "late"]
    outcome: SearchOutcome | None = None
    results: list[SearchResult] = field(default_factory=list)
    pending: int = 0
    summary: SearchSummary | None = None


async def stream(
    *,
    registry: ProviderRegistry,
    query: str,
    provider_ids: Sequence[str] | None = None,
    page: int = 1,
    limit: int = 20,
    timeout: float,
    deadlines: Mapping[str, float] | None = None,
    healthy: frozenset[str] = frozenset(),
    skip: Mapping[str, str] = NOTHING_SKIPPED,
    on_provider_error: ErrorHook | None = None,
    on_latency: LatencyHook | None = None,
    on_miss: Callable[[str], None] | None = None,
    follow_late: bool = True,
    show_nsfw: bool = True,
) -> AsyncGenerator[SearchEvent, None]:
    """Ask the selected providers concurrently, yielding as they answer. Raises
    ``UnknownProviders`` before asking anyone when ``provider_ids`` names an unregistered id.
    ``deadlines`` (seconds per provider, default ``timeout``) decide when one is reported
    ``slow``; it is still awaited up to ``timeout`` when ``follow_late``. NSFW titles are left
    out unless ``show_nsfw``."""
    query = query.strip()
    providers = select_providers(registry, provider_ids)
    started = time.perf_counter()
    outcomes: dict[str, SearchOutcome] = {}
    collected: dict[str, list[SearchResult]] = {}
    answers: asyncio.Queue[tuple[Provider, SearchOutcome, list[SearchResult], ProviderError | None]]
    answers = asyncio.Queue()
    asked = [p for p in providers if p.id not in skip]
    due: dict[str, float] = {}
    tasks: list[asyncio.Task[None]] = []

    async def run(provider: Provider) -> None:
        answers.put_nowait(
            (
                provider,
                *await _ask(
                    provider,
                    query=query,
                    page=page,
                    limit=limit,
                    timeout=timeout,
                    show_nsfw=show_nsfw,
                ),
            )
        )

    reports: list[asyncio.Task[None]] = []

    def report_error(provider_id: str, error: ProviderError) -> None:
        """Tell the hook without waiting for it: what it writes (evidence for the monitor) can
        queue in the database, and the outcome streams now. The search's end awaits it."""
        if on_provider_error is not None:
            task = asyncio.create_task(_tell(on_provider_error, provider_id, error))
            reports.append(task)
            _REPORTING.add(task)  # held until done, even if this search is dropped first
            task.add_done_callback(_REPORTING.discard)

    for provider in providers:
        if provider.id in skip:
            outcomes[provider.id] = _skipped(provider, skip[provider.id])
    loop_started = time.monotonic()
    for provider in asked:
        deadline = min(timeout, (deadlines or {}).get(provider.id, timeout))
        # At the cap the provider's own timeout answers (an ``error``, kind ``timeout``); the
        # grace only guards against a kind that ignores its deadline.
        due[provider.id] = loop_started + (deadline if deadline < timeout else timeout + CAP_GRACE)
        tasks.append(asyncio.create_task(run(provider)))
    slow: set[str] = set()
    try:
        for provider in providers:
            if provider.id in skip:
                yield SearchEvent("provider", outcome=outcomes[provider.id], pending=len(due))
        while due or (follow_late and (any(not t.done() for t in tasks) or not answers.empty())):
            wait = max(0.0, min(due.values()) - time.monotonic()) if due else None
            try:
                async with asyncio.timeout(wait):
                    provider, outcome, results, error = await answers.get()
            except TimeoutError:
                now = time.monotonic()
                for provider in asked:
                    if provider.id in due and due[provider.id] <= now:
                        deadline = due.pop(provider.id) - loop_started
                        outcome = _slow(provider, deadline)
                        outcomes[provider.id] = outcome
                        slow.add(provider.id)
                        if on_miss is not None:
                            on_miss(provider.id)
                        report_error(provider.id, ProviderTimeout(outcome.message or ""))
                        yield SearchEvent("provider", outcome=outcome, pending=len(due))
                if not due:
                    yield SearchEvent(
                        "summary",
                        summary=_summary(
                            query, page, limit, started, providers, outcomes, collected, healthy
                        ),
                    )
                continue
            if outcome.status == "ok" and on_latency is not None:
                on_latency(provider.id, outcome.ms or 0)
            if provider.id in slow:
                if outcome.status == "ok":
                    collected[provider.id] = results
                    yield SearchEvent("late", outcome=outcome, results=results, pending=len(due))
                continue
            due.pop(provider.id, None)
            if error is not None:
                if on_miss is not None and error.kind not in ANSWERED_KINDS:
                    on_miss(provider.id)
                report_error(provider.id, error)
            outcome.deadline_ms = int((deadlines or {}).get(provider.id, timeout) * 1000)
            outcomes[provider.id] = outcome
            collected[provider.id] = results
            yield SearchEvent("provider", outcome=outcome, results=results, pending=len(due))
            if not due:
                yield SearchEvent(
                    "summary",
                    summary=_summary(
                        query, page, limit, started, providers, outcomes, collected, healthy
                    ),
                )
        if not asked:
            yield SearchEvent(
                "summary",
                summary=_summary(
                    query, page, limit, started, providers, outcomes, collected, healthy
                ),
            )
    finally:
        for task in tasks:
            task.cancel()
        if reports:
            # Shielded: a search cancelled here still leaves its reports to finish.
            await asyncio.shield(asyncio.gather(*reports))


async def _tell(hook: ErrorHook, provider_id: str, error: ProviderError) -> None:
    try:
        await hook(provider_id, error)
    except Exception:
        logger.exception("search provider=%s error hook failed", provider_id)


def _summary(
    query: str,
    page: int,
    limit: int,
    started: float,
    providers: Sequence[Provider],
    outcomes: Mapping[str, SearchOutcome],
    collected: Mapping[str, list[SearchResult]],
    healthy: frozenset[str],
) -> SearchSummary:
    ordered = [outcomes[p.id] for p in providers]
    standings = {
        o.provider_id: ProviderStanding(
            healthy=o.provider_id in healthy or not healthy, ms=o.ms or 0
        )
        for o in ordered
    }
    merged = rank(
        query,
        (result for p in providers for result in collected.get(p.id, [])),
        standings,
    )
    results = [RankedResult(**entry.result.model_dump(), also_on=entry.also_on) for entry in merged]
    return SearchSummary(
        query=query,
        page=page,
        limit=limit,
        ms=_elapsed_ms(started),
        results=results,
        providers=ordered,
        message=summary_message(query, ordered, len(results)),
    )


async def search(
    *,
    registry: ProviderRegistry,
    query: str,
    provider_ids: Sequence[str] | None = None,
    page: int = 1,
    limit: int = 20,
    timeout: float,
    deadlines: Mapping[str, float] | None = None,
    skip: Mapping[str, str] = NOTHING_SKIPPED,
    on_provider_error: ErrorHook | None = None,
    on_latency: LatencyHook | None = None,
    on_miss: Callable[[str], None] | None = None,
    show_nsfw: bool = True,
) -> SearchResponse:
    """The whole search at once (``GET /search``): every outcome, results interleaved by
    provider rank. Raises ``UnknownProviders`` before asking anyone for an unknown id."""
    query = query.strip()
    providers = select_providers(registry, provider_ids)
    started = time.perf_counter()
    outcomes: dict[str, SearchOutcome] = {}
    collected: dict[str, list[SearchResult]] = {}
    events = stream(
        registry=registry,
        query=query,
        provider_ids=provider_ids,
        page=page,
        limit=limit,
        timeout=timeout,
        deadlines=deadlines,
        skip=skip,
        on_provider_error=on_provider_error,
        on_latency=on_latency,
        on_miss=on_miss,
        follow_late=False,
        show_nsfw=show_nsfw,
    )
    # Closed here, not whenever it is collected: its end awaits the error hooks.
    async with contextlib.aclosing(events):
        async for event in events:
            if event.outcome is not None:
                outcomes[event.outcome.provider_id] = event.outcome
                collected[event.outcome.provider_id] = event.results
            if event.event == "summary":
                break
    return SearchResponse(
        query=query,
        page=page,
        limit=limit,
        ms=_elapsed_ms(started),
        results=interleave(collected.get(p.id, []) for p in providers),
        providers=[outcomes[p.id] for p in providers],
    )
