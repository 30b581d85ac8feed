"""The Updates page (new chapters by day, the last run in words, "Update now") and the History
page (recently read, clear). First views come from the same service functions the API uses
(``updates.feed``, ``updates.service``, ``reading.progress``); ``static/js/updates.js`` and
``history.js`` then call ``POST /library/updates``, ``GET /library/updates/{id}`` and
``DELETE /history``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kurobara.db.deps import SessionDep
from kurobara.providers.registry import ProviderRegistry
from kurobara.reading import progress as reading_progress
from kurobara.updates import feed as updates_feed
from kurobara.updates import service as updates_service
from kurobara.web.browse import reader_url, with_image_origins
from kurobara.web.pages import render
from kurobara.web.session import SignedInUser

router = APIRouter(include_in_schema=False)

FEED_LIMIT = 100
HISTORY_LIMIT = 50


class Outcome(Protocol):
    @property
    def provider_id(self) -> str: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def new_chapters(self) -> int: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def error_kind(self) -> str | None: ...


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 or word.endswith('s') else 's'}"


def _grouped(parts: Iterable[str]) -> str:
    """``["MangaDex down", "MangaDex down", "Toonily down"]`` -> "MangaDex down (2), Toonily
    down", most common first; one reason alone needs no count."""
    counts = Counter(parts).most_common()
    if len(counts) == 1:
        return counts[0][0]
    return ", ".join(text if n == 1 else f"{text} ({n})" for text, n in counts)


def run_summary(outcomes: Sequence[Outcome], names: dict[str, str]) -> str:
    """A finished run in words: "14 new chapters in 6 series · 3 series skipped: MangaDex down
    · 1 failed: parse error on Toonily". ``names`` maps provider ids to display names."""

    def name(outcome: Outcome) -> str:
        return names.get(outcome.provider_id, outcome.provider_id)

    fresh = [o for o in outcomes if o.outcome == "new_chapters"]
    skipped = [o for o in outcomes if o.outcome == "skipped"]
    failed = [o for o in outcomes if o.outcome == "failed"]
    new = sum(o.new_chapters for o in fresh)
    parts = [
        f"{_plural(new, 'new chapter')} in {_plural(len(fresh), 'series')}"
        if fresh
        else "No new chapters"
    ]
    unchanged = sum(1 for o in outcomes if o.outcome == "no_change")
    if unchanged:
        parts.append(f"{unchanged} unchanged")
    if skipped:
        why = _grouped(f"{name(o)} {(o.reason or 'skipped').replace('_', ' ')}" for o in skipped)
        parts.append(f"{_plural(len(skipped), 'series')} skipped: {why}")
    if failed:
        why = _grouped(
            f"{(o.error_kind or 'error').replace('_', ' ')} on {name(o)}" for o in failed
        )
        parts.append(f"{len(failed)} failed: {why}")
    return " · ".join(parts)


def provider_names(registry: ProviderRegistry) -> dict[str, str]:
    return {provider.id: provider.name for provider in registry}


@dataclass(frozen=True)
class Day:
    day: date
    items: list[Any]


def by_day(items: Sequence[Any], when: Any) -> list[Day]:
    """Items (already newest first) grouped by the UTC day ``when(item)`` falls on."""
    return [
        Day(day=key, items=list(group))
        for key, group in groupby(items, key=lambda i: when(i).date())
    ]


@router.get("/updates", name="web:updates")
async def updates_page(request: Request, user: SignedInUser, db_session: SessionDep) -> Response:
    registry: ProviderRegistry = request.app.state.registry
    runs = await updates_service.recent_runs(db_session=db_session, user=user, limit=1)
    feed = await updates_feed.list_new_chapters(
        db_session=db_session, user_id=user.id, page=1, limit=FEED_LIMIT
    )
    last = runs[0] if runs else None
    response = render(
        request,
        "updates.html",
        user=user,
        days=by_day(feed.items, lambda item: item.chapter.first_seen_at),
        total=feed.total,
        last_run=last,
        summary=run_summary(last.outcomes, provider_names(registry)) if last else None,
        chapter_url=lambda item: reader_url(request, item.manga.id, str(item.chapter.id)),
    )
    return with_image_origins(response, registry)


@router.get("/history", name="web:history")
async def history_page(request: Request, user: SignedInUser, db_session: SessionDep) -> Response:
    page = await reading_progress.history(
        db_session=db_session, user_id=user.id, page=1, limit=HISTORY_LIMIT
    )
    response = render(
        request,
        "history.html",
        user=user,
        days=by_day(page.items, lambda item: item.progress.read_at),
        total=page.total,
        chapter_url=lambda item: reader_url(request, item.manga.id, str(item.chapter.id)),
    )
    return with_image_origins(response, request.app.state.registry)
