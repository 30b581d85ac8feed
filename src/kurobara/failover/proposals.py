"""Migration proposals: which library manga depend on dead providers alone (``sync_needs``),
the candidates found for them on healthy providers (``scan``), the Migrate page's view of a
user's entries (``list_migrations``) and the user's click that accepts one (``accept``).

Nothing migrates by itself: ``scan`` only stores candidates; ``accept`` links the chosen
listing to the same manga as a new source and makes it the user's, so the library entry (its
favorite, categories, rating, notes) stays as it is, and read marks count by chapter number.

Errors (routes map them to HTTP)::

    NotInLibrary        the manga is not in the caller's library: 404
    CandidateNotFound   no such candidate for that manga: 404
    (and those of ``failover.service.link_source``)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.failover import rules, service
from kurobara.failover.models import MigrationCandidate, MigrationNeed
from kurobara.library.models import LibraryEntry
from kurobara.manga.models import Manga, MangaSource
from kurobara.monitoring.history import dialect_insert
from kurobara.monitoring.models import ProviderStatus
from kurobara.providers.base import SearchResult
from kurobara.providers.errors import ProviderError
from kurobara.providers.registry import ProviderRegistry
from kurobara.reading.rules import chapter_rows
from kurobara.reading.service import provider_states, skip_reason

logger = logging.getLogger("kurobara.failover.proposals")

# Candidates kept per manga, and per provider before their chapters are counted.
MAX_CANDIDATES = 6
PER_PROVIDER = 3


class NotInLibrary(LookupError):
    def __init__(self, manga_id: uuid.UUID) -> None:
        super().__init__(f"manga {manga_id} is not in your library")


class CandidateNotFound(LookupError):
    def __init__(self, candidate_id: uuid.UUID) -> None:
        super().__init__(f"no migration candidate {candidate_id} for this manga")


@dataclass(frozen=True)
class DeadProvider:
    provider_id: str
    reason: str
    since: datetime | None


async def dead_providers(
    *, db_session: AsyncSession, registry: ProviderRegistry, after_hours: float, now: datetime
) -> dict[str, DeadProvider]:
    """Providers whose series need another source: removed from the configuration (a status
    row no longer registered, or a source's provider unknown here), switched off, or down for
    longer than ``after_hours``."""
    rows = (await db_session.scalars(select(ProviderStatus))).all()
    dead: dict[str, DeadProvider] = {}
    for row in rows:
        reason = rules.dead_reason(
            registered=row.is_registered and row.provider_id in registry,
            enabled=row.is_enabled,
            status=row.status,
            down_since=row.status_changed_at,
            now=now,
            after_hours=after_hours,
        )
        if reason is not None:
            since = row.status_changed_at if reason == rules.DOWN else None
            dead[row.provider_id] = DeadProvider(row.provider_id, reason, since)
    sourced = (await db_session.scalars(select(MangaSource.provider_id).distinct())).all()
    for provider_id in sourced:
        if provider_id not in registry and provider_id not in dead:
            dead[provider_id] = DeadProvider(provider_id, rules.REMOVED, None)
    return dead


async def sync_needs(
    *, db_session: AsyncSession, dead: dict[str, DeadProvider], now: datetime
) -> list[uuid.UUID]:
    """Record every library manga whose sources are all on dead providers, and forget the ones
    that have a live source again (a provider back, a source linked). The manga newly found
    needing one. Committed."""
    in_library = select(LibraryEntry.manga_id).distinct()
    rows = (
        await db_session.execute(
            select(MangaSource.manga_id, MangaSource.provider_id, MangaSource.created_at)
            .where(MangaSource.manga_id.in_(in_library))
            .order_by(MangaSource.created_at)
        )
    ).all()
    providers: dict[uuid.UUID, list[str]] = {}
    for manga_id, provider_id, _ in rows:
        providers.setdefault(manga_id, []).append(provider_id)
    needing = {
        manga_id: dead[ids[0]]
        for manga_id, ids in providers.items()
        if ids and all(p in dead for p in ids)
    }
    known = set((await db_session.scalars(select(MigrationNeed.manga_id))).all())
    gone = [m for m in known if m not in needing]
    for start in range(0, len(gone), 500):
        chunk = gone[start : start + 500]
        await db_session.execute(
            delete(MigrationCandidate).where(MigrationCandidate.manga_id.in_(chunk))
        )
        await db_session.execute(delete(MigrationNeed).where(MigrationNeed.manga_id.in_(chunk)))
    new = [m for m in needing if m not in known]
    for manga_id in new:
        cause = needing[manga_id]
        stmt = dialect_insert(db_session, MigrationNeed.__table__).values(
            manga_id=manga_id,
            provider_id=cause.provider_id,
            reason=cause.reason,
            since=cause.since or now,
            found_at=now,
        )
        await db_session.execute(stmt.on_conflict_do_nothing(index_elements=["manga_id"]))
    await db_session.commit()
    return new


async def due_scans(
    *, db_session: AsyncSession, now: datetime, rescan_hours: float, limit: int
) -> list[uuid.UUID]:
    """Needs never searched for, or searched longer ago than ``rescan_hours``; oldest first."""
    stale = now - timedelta(hours=rescan_hours)
    found = await db_session.scalars(
        select(MigrationNeed.manga_id)
        .where((MigrationNeed.scanned_at.is_(None)) | (MigrationNeed.scanned_at < stale))
        .order_by(MigrationNeed.scanned_at.is_not(None), MigrationNeed.found_at)
        .limit(limit)
    )
    return list(found.all())


async def scan(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    manga_id: uuid.UUID,
    now: datetime,
    timeout: float,
) -> int:
    """Search the healthy providers by the manga's title, count the chapters of the best
    results and store them as candidates (replacing earlier ones); the number stored."""
    manga = await db_session.get(Manga, manga_id)
    if manga is None:
        return 0
    facts = service.facts_of(manga)
    linked = {(s.provider_id, s.external_id) for s in manga.sources}
    providers = await service.healthy_providers(
        db_session=db_session, registry=registry, exclude=[s.provider_id for s in manga.sources]
    )
    await db_session.commit()
    scored = await service.scored_results(providers, facts, timeout=timeout)
    picked, per_provider = [], dict[str, int]()
    for result, score in scored:
        if (result.provider_id, result.external_id) in linked:
            continue
        if per_provider.get(result.provider_id, 0) >= PER_PROVIDER:
            continue
        per_provider[result.provider_id] = per_provider.get(result.provider_id, 0) + 1
        picked.append((result, score))
    rows = [
        await _inspect(registry, result, score, facts, manga_id, now)
        for result, score in picked[: MAX_CANDIDATES * 2]
    ]
    rows.sort(key=lambda c: rules.candidate_order(_facts(c)))
    await db_session.execute(
        delete(MigrationCandidate).where(MigrationCandidate.manga_id == manga_id)
    )
    db_session.add_all(rows[:MAX_CANDIDATES])
    await db_session.execute(
        update(MigrationNeed)
        .where(MigrationNeed.manga_id == manga_id)
        .values(scanned_at=now, scan_error=None if providers else "no healthy provider to search")
    )
    await db_session.commit()
    logger.info("migration scan manga=%s candidates=%d", manga_id, len(rows[:MAX_CANDIDATES]))
    return len(rows[:MAX_CANDIDATES])


def _facts(candidate: MigrationCandidate) -> rules.CandidateFacts:
    return rules.CandidateFacts(
        score=candidate.score,
        chapter_count=candidate.chapter_count,
        latest_number=candidate.latest_number,
    )


async def _inspect(
    registry: ProviderRegistry,
    result: SearchResult,
    score: float,
    facts: rules.SeriesFacts,
    manga_id: uuid.UUID,
    now: datetime,
) -> MigrationCandidate:
    """A search result as a candidate: scored again on its details (alt titles and year, which
    search results often lack), with its chapter count and latest chapter. A site that fails
    here keeps the search's score and counts 0 chapters."""
    provider = registry.get(result.provider_id)
    year, chapters = result.year, []
    try:
        details = await provider.get_manga_details(result.external_id)
        found = rules.SeriesFacts(details.title, tuple(details.alt_titles), details.year)
        score, year = rules.match_score(facts, found), details.year
        chapters = await provider.get_chapters(result.external_id)
    except ProviderError as exc:
        logger.info("candidate failed provider=%s kind=%s", provider.id, exc.kind)
    rows = chapter_rows(chapters)
    numbered = [r for r in rows if r["number"] is not None]
    latest = max(numbered, key=lambda r: r["number"]) if numbered else None
    cover = result.cover_url if result.cover_url and len(result.cover_url) <= 1000 else None
    return MigrationCandidate(
        manga_id=manga_id,
        provider_id=result.provider_id,
        external_id=result.external_id[:255],
        title=result.title[:500],
        cover_image=cover,
        url=result.url if result.url and len(result.url) <= 1000 else None,
        year=year,
        score=score,
        chapter_count=len(rows),
        latest_chapter=latest["number_text"] if latest else None,
        latest_number=latest["number"] if latest else None,
        found_at=now,
    )


# -- the Migrate page --------------------------------------------------------------------------


@dataclass(frozen=True)
class CandidateView:
    candidate: MigrationCandidate
    provider_name: str
    provider_status: str | None
    usable: bool
    # The catalog's other manga of this listing, when it already is one (accepting refuses it).
    linked_manga_id: uuid.UUID | None


@dataclass(frozen=True)
class MigrationEntry:
    manga: Manga
    entry: LibraryEntry
    need: MigrationNeed
    provider_name: str
    candidates: list[CandidateView]

    @property
    def best(self) -> CandidateView | None:
        usable = [c for c in self.candidates if c.usable and c.linked_manga_id is None]
        return usable[0] if usable else None


async def list_migrations(
    *, db_session: AsyncSession, registry: ProviderRegistry, user_id: uuid.UUID
) -> list[MigrationEntry]:
    """The user's library entries that need another source, each with its candidates best
    first (score, chapters, latest chapter) and their providers' health now."""
    rows = (
        await db_session.execute(
            select(LibraryEntry, Manga, MigrationNeed)
            .join(Manga, Manga.id == LibraryEntry.manga_id)
            .join(MigrationNeed, MigrationNeed.manga_id == LibraryEntry.manga_id)
            .where(LibraryEntry.user_id == user_id)
            .order_by(Manga.title_key)
        )
    ).all()
    ids = [manga.id for _, manga, _ in rows]
    candidates = (
        await db_session.scalars(
            select(MigrationCandidate).where(MigrationCandidate.manga_id.in_(ids))
        )
    ).all()
    states = await provider_states(
        db_session=db_session, provider_ids=list({c.provider_id for c in candidates})
    )
    owners = await service.owners(db_session, [(c.provider_id, c.external_id) for c in candidates])
    by_manga: dict[uuid.UUID, list[CandidateView]] = {}
    for c in sorted(candidates, key=lambda c: rules.candidate_order(_facts(c))):
        state = states.get(c.provider_id)
        reason = skip_reason(registry, c.provider_id, state, skip_down=True)
        owner = owners.get((c.provider_id, c.external_id))
        by_manga.setdefault(c.manga_id, []).append(
            CandidateView(
                candidate=c,
                provider_name=service.provider_label(registry, c.provider_id),
                provider_status=reason or (state.status if state is not None else None),
                usable=reason is None,
                linked_manga_id=owner if owner != c.manga_id else None,
            )
        )
    return [
        MigrationEntry(
            manga=manga,
            entry=entry,
            need=need,
            provider_name=service.provider_label(registry, need.provider_id),
            candidates=by_manga.get(manga.id, []),
        )
        for entry, manga, need in rows
    ]


async def count_migrations(*, db_session: AsyncSession, user_id: uuid.UUID) -> int:
    """How many of the user's entries need another source (the navigation's badge)."""
    found = await db_session.scalars(
        select(LibraryEntry.id)
        .join(MigrationNeed, MigrationNeed.manga_id == LibraryEntry.manga_id)
        .where(LibraryEntry.user_id == user_id)
    )
    return len(found.all())


@dataclass(frozen=True)
class Accepted:
    manga_id: uuid.UUID
    source_id: uuid.UUID
    provider_id: str
    external_id: str


async def accept(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    user_id: uuid.UUID,
    manga_id: uuid.UUID,
    candidate_id: uuid.UUID,
    now: datetime,
) -> Accepted:
    """The user's click: link the candidate's listing to the manga as a new source and make
    it the one they read from. The library entry is not touched (favorite, categories, rating
    and notes stay); read chapters carry over by number. The manga no longer needs a
    migration once it has a live source, so its proposal goes."""
    entry = await db_session.scalar(
        select(LibraryEntry.id).where(
            LibraryEntry.user_id == user_id, LibraryEntry.manga_id == manga_id
        )
    )
    if entry is None:
        raise NotInLibrary(manga_id)
    candidate = await db_session.get(MigrationCandidate, candidate_id)
    if candidate is None or candidate.manga_id != manga_id:
        raise CandidateNotFound(candidate_id)
    provider_id, external_id = candidate.provider_id, candidate.external_id
    source, _ = await service.link_source(
        db_session=db_session,
        registry=registry,
        manga_id=manga_id,
        provider_id=provider_id,
        external_id=external_id,
    )
    await service.set_preferred_source(
        db_session=db_session, user_id=user_id, manga_id=manga_id, source_id=source.id, now=now
    )
    await db_session.execute(
        delete(MigrationCandidate).where(MigrationCandidate.manga_id == manga_id)
    )
    await db_session.execute(delete(MigrationNeed).where(MigrationNeed.manga_id == manga_id))
    await db_session.commit()
    logger.info("migration accepted manga=%s provider=%s", manga_id, provider_id)
    return Accepted(manga_id, source.id, source.provider_id, source.external_id)


@dataclass(frozen=True)
class BatchResult:
    accepted: list[Accepted]
    # Entries left: no candidate at or above the score (or none usable).
    left: list[uuid.UUID]
    # Entries whose best candidate could not be linked, with why.
    failed: list[tuple[uuid.UUID, str]]


async def accept_best(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    user_id: uuid.UUID,
    min_score: float,
    now: datetime,
    manga_ids: Sequence[uuid.UUID] | None = None,
) -> BatchResult:
    """The batch click: for every entry (of ``manga_ids``, else all) whose best usable
    candidate scores at least ``min_score``, accept that candidate."""
    entries = await list_migrations(db_session=db_session, registry=registry, user_id=user_id)
    wanted = set(manga_ids) if manga_ids is not None else None
    plan = [
        (e.manga.id, e.best.candidate.id)
        for e in entries
        if (wanted is None or e.manga.id in wanted)
        and e.best is not None
        and e.best.candidate.score >= min_score
    ]
    chosen = {manga_id for manga_id, _ in plan}
    left = [e.manga.id for e in entries if e.manga.id not in chosen]
    accepted, failed = [], []
    for manga_id, candidate_id in plan:
        try:
            accepted.append(
                await accept(
                    db_session=db_session,
                    registry=registry,
                    user_id=user_id,
                    manga_id=manga_id,
                    candidate_id=candidate_id,
                    now=now,
                )
            )
        except (ProviderError, service.FailoverError) as exc:
            await db_session.rollback()
            failed.append((manga_id, str(exc)))
    return BatchResult(accepted=accepted, left=left, failed=failed)
