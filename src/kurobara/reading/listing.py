"""What a reader asks for: a manga's chapter list (answered from the database, refreshed from
the provider when older than ``chapter_cache_seconds``, stored and flagged ``stale`` when the
provider is down, switched off or failing), a chapter's pages, and the reader's view of one
chapter with its neighbours.

Errors a caller maps::

    MangaNotFound       (from manga.service) no manga with that id
    NoUsableSource      (from manga.service) no source is enabled and nothing is stored
    ChapterNotFound     the manga has no chapter with that id
    ProviderSkipped     (from reading.service) the provider may not be asked and nothing
                        stored answers instead
    ProviderError       (from the provider) it failed and nothing stored answers instead
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.downloads import service as downloads_service
from kurobara.failover.models import SourcePreference
from kurobara.failover.rules import (
    SourceHealth,
    fallback_message,
    merge_chapters,
    rank_sources,
    wanted_source,
)
from kurobara.images.links import page_links
from kurobara.images.preferences import get_preferences
from kurobara.manga.models import Manga, MangaSource
from kurobara.manga.service import MangaNotFound, NoUsableSource
from kurobara.monitoring.clock import Clock, SystemClock
from kurobara.providers.base import Page
from kurobara.providers.errors import ProviderError
from kurobara.providers.mangadex import MangaDexProvider
from kurobara.providers.registry import ProviderRegistry
from kurobara.reading import rules
from kurobara.reading.models import ChapterProgress, ChapterSync, StoredChapter
from kurobara.reading.service import (
    FAILED,
    SKIPPED,
    ProviderSkipped,
    ProviderState,
    provider_states,
    refresh_source_chapters,
    skip_reason,
)


class ChapterNotFound(LookupError):
    def __init__(self, chapter_ref: str, manga_id: uuid.UUID | None = None) -> None:
        where = f"manga {manga_id}" if manga_id is not None else "any manga"
        super().__init__(f"{where} has no chapter {chapter_ref!r}")
        self.chapter_ref = chapter_ref
        self.manga_id = manga_id


class ExternalChapter(LookupError):
    """The chapter is hosted on another site (``external_url``): there are no pages to read
    here, only a link out."""

    def __init__(self, chapter_id: uuid.UUID, external_url: str) -> None:
        super().__init__(f"chapter {chapter_id} is read on another site: {external_url}")
        self.chapter_id = chapter_id
        self.external_url = external_url


@dataclass(frozen=True)
class ChapterView:
    """One stored chapter with the caller's progress in it. ``read`` also holds when the user
    read the chapter of the same number on another linked source (progress by number)."""

    id: uuid.UUID
    external_id: str
    number: str | None
    number_value: float | None
    volume: str | None
    title: str | None
    language: str | None
    scanlator: str | None
    published_at: datetime | None
    url: str | None
    external_url: str | None
    position: int
    page_count: int | None
    first_seen_at: datetime
    removed_at: datetime | None
    read: bool
    last_page: int | None
    provider_id: str = ""
    source_id: uuid.UUID | None = None

    @classmethod
    def of(
        cls, row: StoredChapter, progress: ChapterProgress | None, *, read_elsewhere: bool = False
    ) -> ChapterView:
        return cls(
            id=row.id,
            external_id=row.external_id,
            number=row.number_text,
            number_value=row.number,
            volume=row.volume,
            title=row.title,
            language=row.language,
            scanlator=row.scanlator,
            published_at=row.published_at,
            url=row.url,
            external_url=row.external_url,
            position=row.position,
            page_count=row.page_count,
            first_seen_at=row.first_seen_at,
            removed_at=row.removed_at,
            read=(progress.read if progress is not None else False) or read_elsewhere,
            last_page=progress.last_page if progress is not None else None,
            provider_id=row.provider_id,
            source_id=row.source_id,
        )


@dataclass(frozen=True)
class Fallback:
    """An answer from another source than the one the reader means (``wanted``): why, since
    when, and the banner's words ("reading from MangaRead: MangaDex is down since 14:02")."""

    provider_id: str
    provider_name: str
    wanted_provider_id: str
    wanted_provider_name: str
    reason: str
    since: datetime | None
    message: str


@dataclass(frozen=True)
class SourceView:
    """One linked source as a chapter list shows it."""

    source_id: uuid.UUID
    provider_id: str
    provider_name: str
    external_id: str
    provider_status: str | None
    usable: bool
    chosen: bool
    answering: bool


@dataclass(frozen=True)
class ChapterListing:
    """A manga's stored chapter list (provider order) and how current it is: ``stale`` when
    this answer could not be refreshed as it should have been; ``provider_status`` is the
    monitor's status, or ``disabled`` / ``unregistered``; ``error_kind`` why it is stale.
    With several linked sources, the answering source's list is completed by the others'
    chapters it lacks (by number), and ``fallback`` says when it is not the wanted one."""

    manga_id: uuid.UUID
    provider_id: str
    external_id: str
    chapters: list[ChapterView]
    stale: bool
    provider_status: str | None
    error_kind: str | None
    error_message: str | None
    refreshed_at: datetime | None
    fallback: Fallback | None = None
    sources: list[SourceView] = dc_field(default_factory=list)


def _status_word(reason: str | None, state: ProviderState | None) -> str | None:
    if reason in (rules.DISABLED, rules.UNREGISTERED):
        return reason
    return state.status if state is not None else None


async def _manga(db_session: AsyncSession, manga_id: uuid.UUID) -> Manga:
    manga = await db_session.get(Manga, manga_id)
    if manga is None:
        raise MangaNotFound(manga_id)
    return manga


def _linked(manga: Manga) -> list[MangaSource]:
    return sorted(manga.sources, key=lambda s: (s.created_at, s.provider_id, s.external_id))


async def _pick_source(
    db_session: AsyncSession,
    registry: ProviderRegistry,
    manga: Manga,
    states: dict[str, ProviderState],
) -> MangaSource:
    """The oldest source whose provider is configured and switched on (down or not: its stored
    list still answers); else the oldest one with stored chapters; else ``NoUsableSource``."""
    sources = _linked(manga)
    for source in sources:
        state = states.get(source.provider_id)
        if skip_reason(registry, source.provider_id, state, skip_down=False) is None:
            return source
    stored = set(
        (
            await db_session.scalars(
                select(StoredChapter.source_id).where(StoredChapter.manga_id == manga.id).distinct()
            )
        ).all()
    )
    for source in sources:
        if source.id in stored:
            return source
    raise NoUsableSource(manga.id)


async def _views(
    db_session: AsyncSession, manga_id: uuid.UUID, user_id: uuid.UUID
) -> dict[uuid.UUID, list[ChapterView]]:
    """Every stored chapter of the manga per source (provider order) with the user's progress;
    a chapter counts as read when its number was read on another source."""
    rows = (
        await db_session.scalars(
            select(StoredChapter)
            .where(StoredChapter.manga_id == manga_id)
            .order_by(StoredChapter.position, StoredChapter.first_seen_at, StoredChapter.id)
        )
    ).all()
    progress = {
        p.chapter_id: p
        for p in (
            await db_session.scalars(
                select(ChapterProgress).where(
                    ChapterProgress.user_id == user_id, ChapterProgress.manga_id == manga_id
                )
            )
        ).all()
    }
    read_numbers: dict[uuid.UUID, set[float]] = {}
    for row in rows:
        mark = progress.get(row.id)
        if mark is not None and mark.read and row.number is not None:
            read_numbers.setdefault(row.source_id, set()).add(row.number)
    views: dict[uuid.UUID, list[ChapterView]] = {}
    for row in rows:
        elsewhere = row.number is not None and any(
            row.number in numbers
            for source_id, numbers in read_numbers.items()
            if source_id != row.source_id
        )
        views.setdefault(row.source_id, []).append(
            ChapterView.of(row, progress.get(row.id), read_elsewhere=elsewhere)
        )
    return views


@dataclass
class _Answer:
    """One source's attempt at answering a chapter list."""

    source: MangaSource
    reason: str | None
    state: ProviderState | None
    error_kind: str | None
    error_message: str | None
    failure: Exception | None
    sync: ChapterSync | None

    @property
    def stale(self) -> bool:
        return self.reason is not None or self.error_kind is not None


async def _answer(
    db_session: AsyncSession,
    registry: ProviderRegistry,
    source: MangaSource,
    states: dict[str, ProviderState],
    max_age_seconds: float,
    clock: Clock,
) -> _Answer:
    """Refresh one source's stored list when it is due and its provider may be asked."""
    state = states.get(source.provider_id)
    reason = skip_reason(registry, source.provider_id, state, skip_down=True)
    sync = await db_session.get(ChapterSync, source.id)
    due = sync is None or not rules.is_fresh(sync.attempted_at, clock.now(), max_age_seconds)
    error_kind = sync.error_kind if sync is not None else None
    error_message = sync.error_message if sync is not None else None
    failure: Exception | None = None
    if reason is None and due:
        result = await refresh_source_chapters(
            db_session=db_session, registry=registry, source_id=source.id, clock=clock
        )
        fresh = await provider_states(db_session=db_session, provider_ids=[source.provider_id])
        state = fresh.get(source.provider_id)
        if result.outcome == SKIPPED:
            reason = result.reason
        error_kind, error_message = result.error_kind, result.error_message
        if result.outcome == FAILED and result.error is not None:
            failure = result.error
        sync = await db_session.get(ChapterSync, source.id, populate_existing=True)
    if reason == rules.DOWN and state is not None:
        error_kind, error_message = state.error_kind, state.error_message
    return _Answer(source, reason, state, error_kind, error_message, failure, sync)


def _healths(
    registry: ProviderRegistry, sources: list[MangaSource], states: dict[str, ProviderState]
) -> list[SourceHealth[uuid.UUID]]:
    healths: list[SourceHealth[uuid.UUID]] = []
    for order, source in enumerate(sources):
        state = states.get(source.provider_id)
        healths.append(
            SourceHealth(
                source_id=source.id,
                provider_id=source.provider_id,
                usable=skip_reason(registry, source.provider_id, state, skip_down=True) is None,
                status=state.status if state is not None else None,
                failures=state.consecutive_failures if state is not None else 0,
                order=order,
            )
        )
    return healths


def provider_name(registry: ProviderRegistry, provider_id: str) -> str:
    return registry.get(provider_id).name if provider_id in registry else provider_id


async def chosen_source(
    db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID
) -> uuid.UUID | None:
    """The source the user chose for the manga (``failover``'s preference), if any."""
    chosen: uuid.UUID | None = await db_session.scalar(
        select(SourcePreference.source_id).where(
            SourcePreference.user_id == user_id, SourcePreference.manga_id == manga_id
        )
    )
    return chosen


async def _last_read_source(
    db_session: AsyncSession, user_id: uuid.UUID, manga_id: uuid.UUID
) -> uuid.UUID | None:
    found: uuid.UUID | None = await db_session.scalar(
        select(StoredChapter.source_id)
        .join(ChapterProgress, ChapterProgress.chapter_id == StoredChapter.id)
        .where(
            ChapterProgress.user_id == user_id,
            ChapterProgress.manga_id == manga_id,
            ChapterProgress.read_at.is_not(None),
        )
        .order_by(ChapterProgress.read_at.desc())
        .limit(1)
    )
    return found


@dataclass(frozen=True)
class SourcePlan:
    """Which linked source the reader means and the order the others are tried in."""

    sources: list[MangaSource]
    healths: list[SourceHealth[uuid.UUID]]
    ranked: list[SourceHealth[uuid.UUID]]
    wanted: SourceHealth[uuid.UUID] | None
    chosen: uuid.UUID | None
    states: dict[str, ProviderState]


async def plan_sources(
    *, db_session: AsyncSession, registry: ProviderRegistry, manga: Manga, user_id: uuid.UUID
) -> SourcePlan:
    sources = _linked(manga)
    states = await provider_states(
        db_session=db_session, provider_ids=[s.provider_id for s in sources]
    )
    healths = _healths(registry, sources, states)
    chosen = await chosen_source(db_session, user_id, manga.id)
    last_read = await _last_read_source(db_session, user_id, manga.id)
    wanted = wanted_source(healths, chosen=chosen, last_read=last_read)
    ranked = rank_sources(healths, wanted.source_id if wanted is not None else None)
    return SourcePlan(sources, healths, ranked, wanted, chosen, states)


def fallback_of(
    registry: ProviderRegistry,
    plan: SourcePlan,
    answering_provider: str,
    answering_source: uuid.UUID,
    *,
    wanted_failed: bool,
    now: datetime,
) -> Fallback | None:
    """The fallback note when ``answering_source`` is not the wanted source."""
    wanted = plan.wanted
    if wanted is None or wanted.source_id == answering_source:
        return None
    state = plan.states.get(wanted.provider_id)
    reason = skip_reason(registry, wanted.provider_id, state, skip_down=True)
    if reason is None:
        if not wanted_failed:
            return None
        reason = "failed"
    return _fallback(registry, answering_provider, wanted.provider_id, reason, state, now)


def _fallback(
    registry: ProviderRegistry,
    reading_id: str,
    wanted_id: str,
    reason: str,
    state: ProviderState | None,
    now: datetime,
) -> Fallback:
    """Read from ``reading_id`` instead of ``wanted_id`` for ``reason`` (its state: since
    when it is down)."""
    since = state.status_changed_at if state is not None and reason == rules.DOWN else None
    reading, wanted = provider_name(registry, reading_id), provider_name(registry, wanted_id)
    return Fallback(
        provider_id=reading_id,
        provider_name=reading,
        wanted_provider_id=wanted_id,
        wanted_provider_name=wanted,
        reason=reason,
        since=since,
        message=fallback_message(
            reading_name=reading, wanted_name=wanted, reason=reason, since=since, now=now
        ),
    )


async def _choose(
    db_session: AsyncSession,
    registry: ProviderRegistry,
    manga: Manga,
    plan: SourcePlan,
    max_age_seconds: float,
    clock: Clock,
) -> tuple[_Answer, bool]:
    """The answering source: the first usable one (in plan order) whose list is current; else
    the first usable one with something stored; else the stored list of the oldest source
    switched on. Also whether the wanted source was tried and failed."""
    by_id = {s.id: s for s in plan.sources}
    tried: list[_Answer] = []
    for health in plan.ranked:
        if not health.usable:
            continue
        answer = await _answer(
            db_session, registry, by_id[health.source_id], plan.states, max_age_seconds, clock
        )
        tried.append(answer)
        if not answer.stale:
            break
    wanted_id = plan.wanted.source_id if plan.wanted is not None else None
    wanted_failed = any(a.source.id == wanted_id and a.stale for a in tried)
    if tried and not tried[-1].stale:
        return tried[-1], wanted_failed
    stored = set(
        (
            await db_session.scalars(
                select(StoredChapter.source_id).where(StoredChapter.manga_id == manga.id).distinct()
            )
        ).all()
    )
    for answer in tried:
        if answer.source.id in stored:
            return answer, wanted_failed
    if tried:
        return tried[0], wanted_failed
    source = await _pick_source(db_session, registry, manga, plan.states)
    answer = await _answer(db_session, registry, source, plan.states, max_age_seconds, clock)
    return answer, wanted_failed


async def chapter_listing(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    manga_id: uuid.UUID,
    user_id: uuid.UUID,
    max_age_seconds: float,
    clock: Clock | None = None,
) -> ChapterListing:
    """The manga's chapter list for ``user_id``, from the database; fetched from the provider
    first when the last attempt is older than ``max_age_seconds`` (and the provider may be
    asked). Shared by every replica: the age is the stored ``chapter_sync`` row's.

    With several sources, the wanted one (chosen, else last read from, else the first linked)
    answers while it is healthy; when it is down, switched off or failing, the healthiest
    other one does, and ``fallback`` says so."""
    clock = clock or SystemClock()
    manga = await _manga(db_session, manga_id)
    plan = await plan_sources(
        db_session=db_session, registry=registry, manga=manga, user_id=user_id
    )
    answer, wanted_failed = await _choose(db_session, registry, manga, plan, max_age_seconds, clock)
    source = answer.source
    views = await _views(db_session, manga_id, user_id)
    others = [views.get(h.source_id, []) for h in plan.ranked if h.source_id != source.id]
    chapters = merge_chapters([views.get(source.id, []), *others])
    if not chapters and answer.stale:
        if answer.failure is not None:
            raise answer.failure
        if answer.reason is not None:
            kind = answer.state.error_kind if answer.state is not None else None
            raise ProviderSkipped(source.provider_id, answer.reason, kind)
    usable = {h.source_id: h.usable for h in plan.healths}
    return ChapterListing(
        manga_id=manga_id,
        provider_id=source.provider_id,
        external_id=source.external_id,
        chapters=chapters,
        stale=answer.stale,
        provider_status=_status_word(answer.reason, answer.state),
        error_kind=answer.error_kind,
        error_message=answer.error_message,
        refreshed_at=answer.sync.refreshed_at if answer.sync is not None else None,
        fallback=fallback_of(
            registry,
            plan,
            source.provider_id,
            source.id,
            wanted_failed=wanted_failed,
            now=clock.now(),
        ),
        sources=[
            SourceView(
                source_id=s.id,
                provider_id=s.provider_id,
                provider_name=provider_name(registry, s.provider_id),
                external_id=s.external_id,
                provider_status=_source_status(registry, s.provider_id, plan.states),
                usable=usable.get(s.id, False),
                chosen=s.id == plan.chosen,
                answering=s.id == source.id,
            )
            for s in plan.sources
        ],
    )


def _source_status(
    registry: ProviderRegistry, provider_id: str, states: dict[str, ProviderState]
) -> str | None:
    state = states.get(provider_id)
    reason = skip_reason(registry, provider_id, state, skip_down=True)
    return _status_word(reason, state)


@dataclass(frozen=True)
class PageListing:
    manga_id: uuid.UUID
    provider_id: str
    chapter: ChapterView
    pages: list[Page]
    fallback: Fallback | None = None


async def find_chapter(
    *, db_session: AsyncSession, manga_id: uuid.UUID, chapter_ref: str
) -> StoredChapter | None:
    """A stored chapter of the manga by its id, or by the site's id (the reader's URLs)."""
    try:
        by_id: uuid.UUID | None = uuid.UUID(chapter_ref)
    except ValueError:
        by_id = None
    match = StoredChapter.external_id == chapter_ref
    if by_id is not None:
        match = or_(StoredChapter.id == by_id, match)
    rows = (
        await db_session.scalars(
            select(StoredChapter)
            .where(StoredChapter.manga_id == manga_id, match)
            .order_by(StoredChapter.removed_at.is_not(None), StoredChapter.first_seen_at)
        )
    ).all()
    exact = [row for row in rows if row.id == by_id]
    return exact[0] if exact else (rows[0] if rows else None)


async def _same_number_elsewhere(
    db_session: AsyncSession, plan: SourcePlan, chapter: StoredChapter, tried: set[uuid.UUID]
) -> StoredChapter | None:
    """The chapter of the same number on the best other usable source (plan order)."""
    if chapter.number is None:
        return None
    rows = (
        await db_session.scalars(
            select(StoredChapter).where(
                StoredChapter.manga_id == chapter.manga_id,
                StoredChapter.number == chapter.number,
                StoredChapter.source_id.not_in(tried),
            )
        )
    ).all()
    by_source = {row.source_id: row for row in sorted(rows, key=lambda r: r.removed_at is not None)}
    for health in plan.ranked:
        if health.usable and health.source_id in by_source:
            return by_source[health.source_id]
    return None


async def _fetch_pages(
    db_session: AsyncSession, registry: ProviderRegistry, chapter: StoredChapter, user_id: uuid.UUID
) -> list[Page]:
    provider = registry.get(chapter.provider_id)
    data_saver = (
        isinstance(provider, MangaDexProvider)
        and (await get_preferences(db_session=db_session, user_id=user_id)).data_saver
    )
    if db_session.in_transaction():
        await db_session.commit()
    if data_saver and isinstance(provider, MangaDexProvider):
        # The user's data-saver choice: MangaDex's compressed copies of the pages.
        return await provider.get_pages_of_quality(chapter.external_id, data_saver=True)
    return await provider.get_pages(chapter.external_id)


async def chapter_pages(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    manga_id: uuid.UUID,
    user_id: uuid.UUID,
    chapter_ref: str,
    max_age_seconds: float,
    clock: Clock | None = None,
) -> PageListing:
    """A chapter's page image URLs: from its finished download when there is one, else from
    the provider of the source it was listed by. Not
    cached: some sites hand out image URLs that expire within minutes. The page count is
    stored, so reaching the last page can mark the chapter read.

    When that provider may not be asked (down, switched off) or fails, the chapter of the same
    number on the healthiest other linked source is read instead, and ``fallback`` says so.

    A chapter the database does not know yet (a list never fetched, or fetched before the
    chapter appeared) is looked for once more after refreshing the list, so a made-up id never
    reaches the site."""
    clock = clock or SystemClock()
    manga = await _manga(db_session, manga_id)
    chapter = await find_chapter(db_session=db_session, manga_id=manga_id, chapter_ref=chapter_ref)
    if chapter is None:
        await chapter_listing(
            db_session=db_session,
            registry=registry,
            manga_id=manga_id,
            user_id=user_id,
            max_age_seconds=max_age_seconds,
            clock=clock,
        )
        chapter = await find_chapter(
            db_session=db_session, manga_id=manga_id, chapter_ref=chapter_ref
        )
    if chapter is None:
        raise ChapterNotFound(chapter_ref, manga_id)
    if chapter.external_url is not None:
        raise ExternalChapter(chapter.id, chapter.external_url)
    # A downloaded chapter reads from its CBZ, whatever its provider's state.
    local = await downloads_service.downloaded_pages(db_session=db_session, chapter_id=chapter.id)
    if local is not None:
        progress = await db_session.scalar(
            select(ChapterProgress).where(
                ChapterProgress.user_id == user_id, ChapterProgress.chapter_id == chapter.id
            )
        )
        return PageListing(
            manga_id=manga_id,
            provider_id=chapter.provider_id,
            chapter=ChapterView.of(chapter, progress),
            pages=local,
        )
    plan = await plan_sources(
        db_session=db_session, registry=registry, manga=manga, user_id=user_id
    )
    meant = chapter
    tried: set[uuid.UUID] = set()
    while True:
        tried.add(chapter.source_id)
        state = plan.states.get(chapter.provider_id)
        reason = skip_reason(registry, chapter.provider_id, state, skip_down=True)
        error: ProviderError | None = None
        if reason is None:
            try:
                pages = await _fetch_pages(db_session, registry, chapter, user_id)
                break
            except ProviderError as exc:
                error = exc
        substitute = await _same_number_elsewhere(db_session, plan, chapter, tried)
        if substitute is None:
            if error is not None:
                raise error
            assert reason is not None
            raise ProviderSkipped(chapter.provider_id, reason, state.error_kind if state else None)
        chapter = substitute
    if pages and chapter.page_count != len(pages):
        chapter.page_count = len(pages)
        await db_session.commit()
    progress = await db_session.scalar(
        select(ChapterProgress).where(
            ChapterProgress.user_id == user_id, ChapterProgress.chapter_id == chapter.id
        )
    )
    view = ChapterView.of(chapter, progress)
    fallback = None
    if chapter.id != meant.id:
        fallback = _page_fallback(registry, plan, meant, chapter, clock.now())
    # Served through the image proxy, fetched with the chapter's page as the Referer.
    pages = page_links(
        chapter.provider_id, pages, chapter=chapter.external_id, chapter_url=view.url
    )
    return PageListing(
        manga_id=manga_id,
        provider_id=chapter.provider_id,
        chapter=view,
        pages=pages,
        fallback=fallback,
    )


def _page_fallback(
    registry: ProviderRegistry,
    plan: SourcePlan,
    meant: StoredChapter,
    read: StoredChapter,
    now: datetime,
) -> Fallback:
    state = plan.states.get(meant.provider_id)
    reason = skip_reason(registry, meant.provider_id, state, skip_down=True) or "failed"
    return _fallback(registry, read.provider_id, meant.provider_id, reason, state, now)


async def pages_of_chapter(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    chapter_id: uuid.UUID,
    user_id: uuid.UUID,
    max_age_seconds: float,
    clock: Clock | None = None,
) -> PageListing:
    """``chapter_pages`` for a chapter known by its id alone (whichever manga it is of)."""
    manga_id = await db_session.scalar(
        select(StoredChapter.manga_id).where(StoredChapter.id == chapter_id)
    )
    if manga_id is None:
        raise ChapterNotFound(str(chapter_id))
    return await chapter_pages(
        db_session=db_session,
        registry=registry,
        manga_id=manga_id,
        user_id=user_id,
        chapter_ref=str(chapter_id),
        max_age_seconds=max_age_seconds,
        clock=clock,
    )


@dataclass(frozen=True)
class Reading:
    """One chapter opened for reading: its pages and its neighbours in the chapter list."""

    chapter: ChapterView
    pages: list[Page]
    previous: ChapterView | None
    next: ChapterView | None
    provider_id: str
    fallback: Fallback | None = None


async def read_chapter(
    *,
    db_session: AsyncSession,
    registry: ProviderRegistry,
    manga_id: uuid.UUID,
    user_id: uuid.UUID,
    chapter_ref: str,
    max_age_seconds: float,
    clock: Clock | None = None,
) -> Reading:
    """A chapter with its pages and its neighbours among the chapters still listed (the
    reader's previous/next links)."""
    pages = await chapter_pages(
        db_session=db_session,
        registry=registry,
        manga_id=manga_id,
        user_id=user_id,
        chapter_ref=chapter_ref,
        max_age_seconds=max_age_seconds,
        clock=clock,
    )
    listing = await chapter_listing(
        db_session=db_session,
        registry=registry,
        manga_id=manga_id,
        user_id=user_id,
        max_age_seconds=max_age_seconds,
        clock=clock,
    )
    present = [c for c in listing.chapters if c.removed_at is None or c.id == pages.chapter.id]
    ids = [c.id for c in present]
    at = ids.index(pages.chapter.id) if pages.chapter.id in ids else None
    if at is None and pages.chapter.number_value is not None:
        # Read from another source than the one listing it: its place is its number's.
        numbers = [c.number_value for c in present]
        if pages.chapter.number_value in numbers:
            at = numbers.index(pages.chapter.number_value)
    chapter = pages.chapter
    if at is not None and present[at].id == chapter.id:
        chapter = present[at]
    elif at is not None and present[at].read and not chapter.read:
        chapter = replace(chapter, read=True)
    return Reading(
        chapter=chapter,
        pages=pages.pages,
        previous=present[at - 1] if at is not None and at > 0 else None,
        next=present[at + 1] if at is not None and at + 1 < len(present) else None,
        provider_id=pages.provider_id,
        fallback=pages.fallback or listing.fallback,
    )
