"""Chapters as data: the one place a source's chapter list is fetched from its provider and
stored (``refresh_source_chapters``), and the chapter list and pages a reader asks for.

Errors a caller maps::

    SourceNotFound      no manga source with that id
    ChapterNotFound     no chapter with that id in that manga
    ProviderSkipped     the provider may not be asked now (``reason``: disabled, down,
                        unregistered) and nothing stored can answer instead
    ProviderError       (from the provider) the site failed and nothing stored can answer

Provider calls never run inside a database transaction: the session's transaction is ended
(committed) before the network call, and one short transaction stores the result.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.manga.models import MangaSource
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.monitoring.history import dialect_insert
from kurobara.monitoring.models import ProviderStatus
from kurobara.providers.base import Chapter, Provider
from kurobara.providers.errors import ProviderError, RateLimited, UnexpectedFailure
from kurobara.providers.registry import ProviderRegistry
from kurobara.reading import rules
from kurobara.reading.models import ChapterSync, StoredChapter

logger = logging.getLogger(__name__)

REFRESHED = "refreshed"
SKIPPED = "skipped"
FAILED = "failed"

# Rows per INSERT: well under SQLite's bound-parameter limit at 14 columns a row.
_INSERT_CHUNK = 500


class SourceNotFound(LookupError):
    def __init__(self, source_id: uuid.UUID) -> None:
        super().__init__(f"manga source {source_id} not found")
        self.source_id = source_id


class ProviderSkipped(Exception):
    """The provider may not be asked (disabled by the admin, down per the monitor, or no longer
    configured) and there is nothing stored to answer with."""

    def __init__(self, provider_id: str, reason: str, error_kind: str | None = None) -> None:
        super().__init__(f"provider {provider_id} is {reason}")
        self.provider_id = provider_id
        self.reason = reason
        self.error_kind = error_kind


@dataclass(frozen=True)
class ProviderState:
    """What the monitor's ``provider_status`` row says about a provider, for reading."""

    provider_id: str
    status: str | None
    is_enabled: bool
    error_kind: str | None
    error_message: str | None
    status_changed_at: datetime | None = None
    consecutive_failures: int = 0


async def provider_states(
    *, db_session: AsyncSession, provider_ids: Sequence[str]
) -> dict[str, ProviderState]:
    """The stored state of each provider that has a ``provider_status`` row."""
    if not provider_ids:
        return {}
    rows = (
        await db_session.execute(
            select(
                ProviderStatus.provider_id,
                ProviderStatus.status,
                ProviderStatus.is_enabled,
                ProviderStatus.error_kind,
                ProviderStatus.error_message,
                ProviderStatus.status_changed_at,
                ProviderStatus.consecutive_failures,
            ).where(ProviderStatus.provider_id.in_(set(provider_ids)))
        )
    ).all()
    return {
        row.provider_id: ProviderState(
            provider_id=row.provider_id,
            status=row.status,
            is_enabled=row.is_enabled,
            error_kind=row.error_kind,
            error_message=row.error_message,
            status_changed_at=row.status_changed_at,
            consecutive_failures=row.consecutive_failures,
        )
        for row in rows
    }


def skip_reason(
    registry: ProviderRegistry, provider_id: str, state: ProviderState | None, *, skip_down: bool
) -> str | None:
    """Why ``provider_id`` must not be asked now; None when it may. A provider without a status
    row is one the monitor has not synced yet: its definition's switch stands in."""
    registered = provider_id in registry
    if state is None:
        enabled = registered and registry.get(provider_id).definition.enabled
        return rules.skip_reason(registered=registered, enabled=enabled, status=None)
    reason = rules.skip_reason(registered=registered, enabled=state.is_enabled, status=state.status)
    return None if reason == rules.DOWN and not skip_down else reason


@dataclass(frozen=True)
class RefreshResult:
    """The outcome of one refresh of a source's chapter list.

    ``outcome`` is ``refreshed`` (the list was fetched and stored), ``skipped`` (the provider
    was not asked; ``reason`` is ``disabled``, ``down`` or ``unregistered``) or ``failed`` (the
    provider was asked and failed; ``error_kind``/``error_message``, and ``retry_after`` for a
    429). ``new_chapter_ids`` are the chapters this refresh stored first (provider order);
    ``first_fetch`` says the source had no stored chapter before, so all of them are new."""

    source_id: uuid.UUID
    manga_id: uuid.UUID
    provider_id: str
    outcome: str
    new_chapter_ids: tuple[uuid.UUID, ...] = ()
    removed_count: int = 0
    total: int = 0
    first_fetch: bool = False
    reason: str | None = None
    error_kind: str | None = None
    error_message: str | None = None
    retry_after: float | None = None
    at: datetime | None = field(default=None, compare=False)
    # The provider's exception of a ``failed`` refresh, for callers that re-raise it.
    error: ProviderError | None = field(default=None, compare=False, repr=False)

    @property
    def new_count(self) -> int:
        return len(self.new_chapter_ids)


async def _end_transaction(db_session: AsyncSession) -> None:
    """Close the read transaction before talking to a site (committing keeps loaded objects
    usable; a rollback would expire them)."""
    if db_session.in_transaction():
        await db_session.commit()


async def _fetch(provider: Provider, external_id: str) -> list[Chapter]:
    try:
        return await provider.get_chapters(external_id)
    except ProviderError:
        raise
    except Exception as exc:
        logger.exception("chapter list failed provider=%s source=%s", provider.id, external_id)
        raise UnexpectedFailure(f"{type(exc).__name__}: {exc}") from exc


async def refresh_source_chapters(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    source_id: uuid.UUID,
    clock: Clock | None = None,
    skip_down: bool = True,
) -> RefreshResult:
    """Fetch one source's chapter list from its provider and store it.

    The provider is not asked when the admin switched it off (the stored ``is_enabled``), when
    it is not configured here, or (unless ``skip_down`` is false) when the monitor has it
    ``down``: the result is ``skipped`` with the reason. A provider failure is recorded on the
    source's ``chapter_sync`` row and returned as ``failed``; it never raises for it.

    The fetch runs outside any transaction; one short transaction then inserts new chapters
    (``first_seen_at`` = now; ``ON CONFLICT DO NOTHING``, so two refreshes racing report each
    new chapter once), updates changed ones, marks vanished ones ``removed_at`` (and clears it
    for ones that came back) and records the fetch. Commits the session."""
    clock = clock or SystemClock()
    source = await db_session.get(MangaSource, source_id)
    if source is None:
        raise SourceNotFound(source_id)
    manga_id, provider_id, external_id = source.manga_id, source.provider_id, source.external_id
    states = await provider_states(db_session=db_session, provider_ids=[provider_id])
    reason = skip_reason(registry, provider_id, states.get(provider_id), skip_down=skip_down)
    await _end_transaction(db_session)
    base = RefreshResult(
        source_id=source_id, manga_id=manga_id, provider_id=provider_id, outcome=SKIPPED
    )
    if reason is not None:
        state = states.get(provider_id)
        kind = state.error_kind if state is not None and reason == rules.DOWN else None
        return replace(base, reason=reason, error_kind=kind)
    try:
        fetched = await _fetch(registry.get(provider_id), external_id)
    except ProviderError as exc:
        now = clock.now()
        await _record_sync(db_session, source_id, now, error=exc)
        await db_session.commit()
        logger.info(
            "chapter list failed provider=%s source=%s kind=%s", provider_id, source_id, exc.kind
        )
        return replace(
            base,
            outcome=FAILED,
            error_kind=exc.kind,
            error_message=exc.message,
            retry_after=exc.retry_after if isinstance(exc, RateLimited) else None,
            at=now,
            error=exc,
        )
    now = clock.now()
    try:
        stored = await _store(db_session, source_id, manga_id, provider_id, fetched, now)
        await _record_sync(db_session, source_id, now, error=None)
        await db_session.commit()
    except BaseException:
        await db_session.rollback()
        raise
    new_ids, removed, first_fetch, total = stored
    return replace(
        base,
        outcome=REFRESHED,
        new_chapter_ids=tuple(new_ids),
        removed_count=removed,
        total=total,
        first_fetch=first_fetch,
        at=now,
    )


async def _store(
    db_session: AsyncSession,
    source_id: uuid.UUID,
    manga_id: uuid.UUID,
    provider_id: str,
    fetched: Sequence[Chapter],
    now: datetime,
) -> tuple[list[uuid.UUID], int, bool, int]:
    """Write a fetched list: ``(new ids in provider order, removed count, first fetch, total)``."""
    rows = rules.chapter_rows(fetched)
    existing = {
        row.external_id: row
        for row in (
            await db_session.scalars(
                select(StoredChapter).where(StoredChapter.source_id == source_id)
            )
        ).all()
    }
    missing = [row for row in rows if row["external_id"] not in existing]
    new_ids = await _insert_new(db_session, source_id, manga_id, provider_id, missing, now)
    listed = {row["external_id"]: row for row in rows}
    removed = 0
    for external_id, chapter in existing.items():
        values = listed.get(external_id)
        if values is None:
            if chapter.removed_at is None:
                chapter.removed_at = now
                removed += 1
            continue
        for name, value in values.items():
            if getattr(chapter, name) != value:
                setattr(chapter, name, value)
        if chapter.removed_at is not None:
            chapter.removed_at = None
    await db_session.flush()
    return new_ids, removed, not existing, len(rows)


async def _insert_new(
    db_session: AsyncSession,
    source_id: uuid.UUID,
    manga_id: uuid.UUID,
    provider_id: str,
    rows: list[dict[str, Any]],
    now: datetime,
) -> list[uuid.UUID]:
    """Insert chapters not stored yet; the ids of those this statement stored (a racing
    refresh that stored one first gets it, not us), in provider order."""
    inserted: dict[str, uuid.UUID] = {}
    table = StoredChapter.__table__
    for start in range(0, len(rows), _INSERT_CHUNK):
        values = [
            {
                **row,
                "id": uuid.uuid4(),
                "source_id": source_id,
                "manga_id": manga_id,
                "provider_id": provider_id,
                "first_seen_at": now,
                "removed_at": None,
                "page_count": None,
            }
            for row in rows[start : start + _INSERT_CHUNK]
        ]
        stmt = (
            dialect_insert(db_session, table)
            .values(values)
            .on_conflict_do_nothing(index_elements=["source_id", "external_id"])
            .returning(table.c.id, table.c.external_id)
        )
        for row in (await db_session.execute(stmt)).all():
            inserted[row.external_id] = row.id
    return [inserted[row["external_id"]] for row in rows if row["external_id"] in inserted]


async def _record_sync(
    db_session: AsyncSession, source_id: uuid.UUID, now: datetime, *, error: ProviderError | None
) -> None:
    values: dict[str, Any] = {
        "attempted_at": now,
        "error_kind": error.kind if error is not None else None,
        "error_message": error.message[:2000] if error is not None else None,
    }
    if error is None:
        values["refreshed_at"] = now
    stmt = dialect_insert(db_session, ChapterSync.__table__).values(source_id=source_id, **values)
    await db_session.execute(stmt.on_conflict_do_update(index_elements=["source_id"], set_=values))
