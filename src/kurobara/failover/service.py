"""One series on several sources: link a provider's listing to a manga already in the catalog
(never merging two manga), unlink it (its read marks carried over by number), choose the
source to read from, and match suggestions from the healthy providers.

Errors (routes map them to HTTP)::

    FailoverError
      SourceLinkedElsewhere  that listing belongs to another manga (``manga_id``): 409
      LastSource             unlinking would leave the manga without a source: 409
      SourceNotLinked        no such source on this manga: 404
    MangaNotFound            (from manga.service) no manga with that id: 404
    UnknownProvider          (from the registry): 404
    ProviderError            (from the provider) the site failed while checking the listing

Provider calls never run inside a database transaction: the session's transaction is ended
before the network call, and a short one records the result.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.failover import rules
from kurobara.failover.models import SourcePreference
from kurobara.manga.models import Manga, MangaSource
from kurobara.manga.service import MangaNotFound
from kurobara.monitoring.clock import Clock
from kurobara.monitoring.history import dialect_insert
from kurobara.providers.base import Provider, SearchResult
from kurobara.providers.errors import ProviderError
from kurobara.providers.http import with_deadline
from kurobara.providers.registry import ProviderRegistry
from kurobara.reading.models import ChapterProgress, StoredChapter
from kurobara.reading.service import provider_states, refresh_source_chapters, skip_reason

logger = logging.getLogger("kurobara.failover")

# Results asked of each provider per title search.
SEARCH_LIMIT = 10
# Never proposed: local archives are the user's own files, not a source to move to.
NOT_CANDIDATES = frozenset({"local"})


class FailoverError(Exception):
    kind = "failover_error"


class SourceLinkedElsewhere(FailoverError):
    kind = "linked_elsewhere"

    def __init__(self, provider_id: str, external_id: str, manga_id: uuid.UUID) -> None:
        super().__init__(
            f"{provider_id}/{external_id} is a source of another manga ({manga_id}); "
            "two manga are never merged"
        )
        self.manga_id = manga_id


class LastSource(FailoverError):
    kind = "last_source"

    def __init__(self) -> None:
        super().__init__("this is the manga's only source; link another before unlinking it")


class SourceNotLinked(FailoverError):
    kind = "source_not_linked"

    def __init__(self, source_id: uuid.UUID) -> None:
        super().__init__(f"source {source_id} is not linked to this manga")


async def _end_transaction(db_session: AsyncSession) -> None:
    if db_session.in_transaction():
        await db_session.commit()


async def _manga(db_session: AsyncSession, manga_id: uuid.UUID) -> Manga:
    manga = await db_session.get(Manga, manga_id)
    if manga is None:
        raise MangaNotFound(manga_id)
    return manga


async def _source_of(
    db_session: AsyncSession, provider_id: str, external_id: str
) -> MangaSource | None:
    found: MangaSource | None = await db_session.scalar(
        select(MangaSource).where(
            MangaSource.provider_id == provider_id, MangaSource.external_id == external_id
        )
    )
    return found


def _claim(existing: MangaSource, manga_id: uuid.UUID) -> MangaSource:
    """An existing listing: ours, or refused as another manga's."""
    if existing.manga_id != manga_id:
        raise SourceLinkedElsewhere(existing.provider_id, existing.external_id, existing.manga_id)
    return existing


async def link_source(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    manga_id: uuid.UUID,
    provider_id: str,
    external_id: str,
    clock: Clock | None = None,
) -> tuple[MangaSource, bool]:
    """Add a provider's listing to a manga: ``(source, created)``. The site is asked for the
    listing first (so a made-up id is refused, and its canonical id stored); a listing that is
    another manga's is refused, never merged. The new source's chapters are fetched at once,
    so the merged list and read-by-number know them."""
    provider = registry.get(provider_id)
    await _manga(db_session, manga_id)
    existing = await _source_of(db_session, provider_id, external_id)
    if existing is not None:
        return _claim(existing, manga_id), False
    await _end_transaction(db_session)
    details = await provider.get_manga_details(external_id)
    stored_id = details.external_id.replace("\x00", "").strip()[:255] or external_id
    existing = await _source_of(db_session, provider_id, stored_id)
    if existing is not None:
        return _claim(existing, manga_id), False
    url = details.url if details.url and len(details.url) <= 1000 else None
    source = MangaSource(manga_id=manga_id, provider_id=provider_id, external_id=stored_id, url=url)
    db_session.add(source)
    try:
        await db_session.commit()
    except IntegrityError:
        await db_session.rollback()
        existing = await _source_of(db_session, provider_id, stored_id)
        if existing is None:
            raise
        return _claim(existing, manga_id), False
    logger.info("linked source manga=%s provider=%s id=%s", manga_id, provider_id, stored_id)
    await refresh_source_chapters(
        db_session=db_session, registry=registry, source_id=source.id, clock=clock
    )
    return source, True


async def unlink_source(
    *, db_session: AsyncSession, manga_id: uuid.UUID, source_id: uuid.UUID
) -> None:
    """Remove a source from a manga, with its stored chapters. Read marks on them move to the
    chapters of the same number on the other sources first, so no one's progress is lost."""
    manga = await _manga(db_session, manga_id)
    source = next((s for s in manga.sources if s.id == source_id), None)
    if source is None:
        raise SourceNotLinked(source_id)
    if len(manga.sources) < 2:
        raise LastSource()
    provider_id = source.provider_id
    try:
        await _carry_marks(db_session, manga_id, source_id)
        await db_session.execute(delete(MangaSource).where(MangaSource.id == source_id))
        await db_session.commit()
    except BaseException:
        await db_session.rollback()
        raise
    logger.info("unlinked source manga=%s provider=%s", manga_id, provider_id)


async def _carry_marks(db_session: AsyncSession, manga_id: uuid.UUID, source_id: uuid.UUID) -> None:
    gone = (
        await db_session.execute(
            select(ChapterProgress.user_id, StoredChapter.number)
            .join(StoredChapter, StoredChapter.id == ChapterProgress.chapter_id)
            .where(
                StoredChapter.source_id == source_id,
                ChapterProgress.read.is_(True),
                StoredChapter.number.is_not(None),
            )
        )
    ).all()
    if not gone:
        return
    others = (
        await db_session.execute(
            select(StoredChapter.id, StoredChapter.number).where(
                StoredChapter.manga_id == manga_id, StoredChapter.source_id != source_id
            )
        )
    ).all()
    by_number: dict[float | None, list[uuid.UUID]] = {}
    for chapter_id, number in others:
        if number is not None:
            by_number.setdefault(number, []).append(chapter_id)
    values = [
        {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "chapter_id": chapter_id,
            "manga_id": manga_id,
            "read": True,
        }
        for user_id, number in gone
        for chapter_id in by_number.get(number, [])
    ]
    for start in range(0, len(values), 500):
        stmt = dialect_insert(db_session, ChapterProgress.__table__).values(
            values[start : start + 500]
        )
        await db_session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id", "chapter_id"], set_={"read": True}
            )
        )


async def set_preferred_source(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    manga_id: uuid.UUID,
    source_id: uuid.UUID | None,
    now: datetime,
) -> uuid.UUID | None:
    """Choose the source the user reads the manga from (None: no choice, the last read or the
    first linked one, falling back to the healthiest). Committed."""
    await _manga(db_session, manga_id)
    if source_id is None:
        await db_session.execute(
            delete(SourcePreference).where(
                SourcePreference.user_id == user_id, SourcePreference.manga_id == manga_id
            )
        )
        await db_session.commit()
        return None
    # Asked of the table: a manga loaded earlier in this session may not list a new source.
    linked = await db_session.scalar(
        select(MangaSource.id).where(MangaSource.id == source_id, MangaSource.manga_id == manga_id)
    )
    if linked is None:
        raise SourceNotLinked(source_id)
    stmt = dialect_insert(db_session, SourcePreference.__table__).values(
        user_id=user_id, manga_id=manga_id, source_id=source_id, updated_at=now
    )
    await db_session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "manga_id"],
            set_={"source_id": source_id, "updated_at": now},
        )
    )
    await db_session.commit()
    return source_id


# -- match suggestions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A listing on another provider that may be the same series."""

    provider_id: str
    provider_name: str
    external_id: str
    title: str
    cover_url: str | None
    url: str | None
    year: int | None
    score: float
    # The catalog's manga of this listing when it is already in the catalog (not this one).
    linked_manga_id: uuid.UUID | None


def facts_of(manga: Manga) -> rules.SeriesFacts:
    return rules.SeriesFacts(title=manga.title, alt_titles=tuple(manga.alt_titles), year=manga.year)


async def healthy_providers(
    *, db_session: AsyncSession, registry: ProviderRegistry, exclude: Sequence[str] = ()
) -> list[Provider]:
    """Providers that may be asked now (registered, on, not down), in registry order."""
    candidates = [p for p in registry if p.id not in NOT_CANDIDATES and p.id not in exclude]
    states = await provider_states(db_session=db_session, provider_ids=[p.id for p in candidates])
    return [
        p
        for p in candidates
        if skip_reason(registry, p.id, states.get(p.id), skip_down=True) is None
    ]


async def _search_one(provider: Provider, title: str, timeout: float) -> list[SearchResult]:
    try:
        return await with_deadline(provider.search(title, limit=SEARCH_LIMIT), timeout)
    except ProviderError as exc:
        logger.info("match search failed provider=%s kind=%s", provider.id, exc.kind)
        return []


async def scored_results(
    providers: Sequence[Provider], facts: rules.SeriesFacts, *, timeout: float
) -> list[tuple[SearchResult, float]]:
    """Every provider searched by the title at once; results at or above the minimum score,
    best first. A provider that fails or misses ``timeout`` adds nothing."""
    answers = await asyncio.gather(*(_search_one(p, facts.title, timeout) for p in providers))
    scored = []
    for results in answers:
        for result in results:
            found = rules.SeriesFacts(title=result.title, year=result.year)
            score = rules.match_score(facts, found)
            if score >= rules.MIN_MATCH_SCORE:
                scored.append((result, score))
    scored.sort(key=lambda pair: -pair[1])
    return scored


async def find_matches(
    *, db_session: AsyncSession, registry: ProviderRegistry, manga_id: uuid.UUID, timeout: float
) -> list[Match]:
    """Match suggestions for a manga: listings on the healthy providers it has no source on
    yet, scored by ``rules.match_score``, best first. Nothing is linked: a suggestion becomes a
    source only through ``link_source``."""
    manga = await _manga(db_session, manga_id)
    facts = facts_of(manga)
    linked = [s.provider_id for s in manga.sources]
    providers = await healthy_providers(db_session=db_session, registry=registry, exclude=linked)
    await _end_transaction(db_session)
    scored = await scored_results(providers, facts, timeout=timeout)
    keys = [(r.provider_id, r.external_id) for r, _ in scored]
    known = await owners(db_session, keys)
    await _end_transaction(db_session)
    return [
        Match(
            provider_id=result.provider_id,
            provider_name=provider_label(registry, result.provider_id),
            external_id=result.external_id,
            title=result.title,
            cover_url=result.cover_url,
            url=result.url,
            year=result.year,
            score=score,
            linked_manga_id=known.get((result.provider_id, result.external_id)),
        )
        for result, score in scored
    ]


async def owners(
    db_session: AsyncSession, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], uuid.UUID]:
    """The manga each (provider, external id) already belongs to, of those that do."""
    if not keys:
        return {}
    providers = {p for p, _ in keys}
    rows = (
        await db_session.execute(
            select(MangaSource.provider_id, MangaSource.external_id, MangaSource.manga_id).where(
                MangaSource.provider_id.in_(providers),
                MangaSource.external_id.in_({e for _, e in keys}),
            )
        )
    ).all()
    return {(row.provider_id, row.external_id): row.manga_id for row in rows}


def provider_label(registry: ProviderRegistry, provider_id: str) -> str:
    """A provider's display name, or its id once it is no longer configured."""
    return registry.get(provider_id).name if provider_id in registry else provider_id
