"""Library updates: start (or join) a run, read its progress, the schedule an admin sets, and
each user's new-chapter notification settings. The feed lives in ``updates/feed.py``; the
worker that refreshes sources in ``updates/jobs.py``.

Errors (routes map them to HTTP)::

    UpdatesError
      RunNotFound          no run with that id that the caller may see
      InvalidNotifyUrl     an Apprise URL Apprise does not understand (carries ``url``)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.config import Settings
from kurobara.db.instance import InstanceSetting
from kurobara.library.models import LibraryEntry
from kurobara.manga.models import Manga, MangaSource
from kurobara.monitoring.history import dialect_insert
from kurobara.updates import claims, rules
from kurobara.updates.models import NotificationSettings, SourceUpdate, UpdateItem, UpdateRun
from kurobara.users.models import User

HOURS_SETTING = "library_update_hours"
SKIP_COMPLETED_SETTING = "library_update_skip_completed"
# Rows per multi-row INSERT.
CHUNK = 500


class UpdatesError(Exception):
    kind = "updates_error"


class RunNotFound(UpdatesError):
    kind = "run_not_found"


class InvalidNotifyUrl(UpdatesError):
    kind = "invalid_notify_url"

    def __init__(self, url: str) -> None:
        super().__init__(f"not an Apprise URL Apprise understands: {url[:80]}")
        self.url = url


# -- the schedule ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    interval_hours: int
    skip_completed: bool
    last_scheduled_at: datetime | None
    next_run_at: datetime


async def _instance_values(db_session: AsyncSession) -> dict[str, str]:
    rows = await db_session.execute(
        select(InstanceSetting.name, InstanceSetting.value).where(
            InstanceSetting.name.in_([HOURS_SETTING, SKIP_COMPLETED_SETTING])
        )
    )
    return {row.name: row.value for row in rows}


async def get_schedule(*, db_session: AsyncSession, settings: Settings, now: datetime) -> Schedule:
    """The admin's stored choice, else ``KUROBARA_LIBRARY_UPDATE_HOURS`` and
    ``KUROBARA_LIBRARY_UPDATE_SKIP_COMPLETED``."""
    stored = await _instance_values(db_session)
    hours = int(stored.get(HOURS_SETTING, settings.library_update_hours))
    skip = stored.get(SKIP_COMPLETED_SETTING)
    skip_completed = settings.library_update_skip_completed if skip is None else skip == "true"
    last: datetime | None = await db_session.scalar(
        select(func.max(UpdateRun.created_at)).where(UpdateRun.trigger == "scheduled")
    )
    return Schedule(
        interval_hours=hours,
        skip_completed=skip_completed,
        last_scheduled_at=last,
        next_run_at=rules.next_scheduled(last=last, hours=hours, now=now),
    )


async def set_schedule(
    *,
    db_session: AsyncSession,
    settings: Settings,
    now: datetime,
    interval_hours: int | None = None,
    skip_completed: bool | None = None,
) -> Schedule:
    """Store the instance admin's choice (hours validated 1..168); every replica reads it."""
    values = {
        HOURS_SETTING: None if interval_hours is None else str(interval_hours),
        SKIP_COMPLETED_SETTING: None if skip_completed is None else str(skip_completed).lower(),
    }
    for name, value in values.items():
        if value is None:
            continue
        stmt = dialect_insert(db_session, InstanceSetting.__table__).values(name=name, value=value)
        await db_session.execute(
            stmt.on_conflict_do_update(index_elements=["name"], set_={"value": value})
        )
    await db_session.commit()
    return await get_schedule(db_session=db_session, settings=settings, now=now)


# -- runs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    run: UpdateRun
    joined: bool


def active_key(scope: str, user_id: uuid.UUID | None) -> str:
    return "all" if scope == "all" else f"user:{user_id}"


def _library_sources(user_id: uuid.UUID | None) -> Select[uuid.UUID, uuid.UUID, str, str | None]:
    in_library = select(LibraryEntry.manga_id)
    if user_id is not None:
        in_library = in_library.where(LibraryEntry.user_id == user_id)
    return (
        select(MangaSource.id, MangaSource.manga_id, MangaSource.provider_id, Manga.status)
        .join(Manga, Manga.id == MangaSource.manga_id)
        .where(MangaSource.manga_id.in_(in_library))
        .order_by(MangaSource.provider_id, MangaSource.id)
    )


async def start_run(
    *,
    db_session: AsyncSession,
    trigger: str,
    scope: str,
    user_id: uuid.UUID | None,
    now: datetime,
    skip_completed: bool,
    provider_id: str | None = None,
    active: str | None = None,
    dedupe_key: str | None = None,
) -> Started | None:
    """Start a run over a user's library (``scope`` user) or everyone's (``all``; with
    ``provider_id``, only that provider's sources its outage skipped). A run with the same
    ``active`` key still going is joined instead; a ``dedupe_key`` already used returns None."""
    active = active or active_key(scope, user_id)
    existing = await _active_run(db_session, active)
    if existing is not None:
        return Started(run=existing, joined=True)
    query = _library_sources(None if scope == "all" else user_id)
    if provider_id is not None:
        skipped = select(SourceUpdate.source_id).where(
            SourceUpdate.provider_id == provider_id,
            SourceUpdate.outcome == "skipped",
            SourceUpdate.reason.in_(rules.PROVIDER_SKIPS),
        )
        query = query.where(MangaSource.provider_id == provider_id, MangaSource.id.in_(skipped))
    sources = (await db_session.execute(query)).all()
    run = UpdateRun(
        trigger=trigger,
        scope=scope,
        user_id=user_id,
        provider_id=provider_id,
        status=claims.RUNNING,
        total=len(sources),
        created_at=now,
        active_key=active,
        dedupe_key=dedupe_key,
    )
    db_session.add(run)
    try:
        await db_session.flush()
    except IntegrityError:
        await db_session.rollback()
        existing = await _active_run(db_session, active)
        return Started(run=existing, joined=True) if existing is not None else None
    await _add_items(db_session, run, sources, now=now, skip_completed=skip_completed)
    await claims.finish_runs(db_session=db_session, run_ids={run.id}, now=now)
    await db_session.commit()
    await db_session.refresh(run)
    return Started(run=run, joined=False)


async def _active_run(db_session: AsyncSession, key: str) -> UpdateRun | None:
    run: UpdateRun | None = await db_session.scalar(
        select(UpdateRun).where(UpdateRun.active_key == key)
    )
    return run


async def _add_items(
    db_session: AsyncSession, run: UpdateRun, sources: Sequence[Any], *, now: datetime,
    skip_completed: bool,
) -> None:  # fmt: skip
    """Items for every source (a completed series is skipped at once), and a lease row for each
    source that has none yet."""
    states = [
        {"source_id": s.id, "manga_id": s.manga_id, "provider_id": s.provider_id, "new_chapters": 0}
        for s in sources
    ]
    items, completed = [], []
    for source in sources:
        reason = rules.series_skip(manga_status=source.status, skip_completed=skip_completed)
        item: dict[str, Any] = {
            "run_id": run.id,
            "source_id": source.id,
            "manga_id": source.manga_id,
            "provider_id": source.provider_id,
            "status": claims.PENDING,
            "outcome": None,
            "reason": None,
            "done_at": None,
            "new_chapters": 0,
        }
        if reason is not None:
            item.update(status=claims.DONE, outcome="skipped", reason=reason, done_at=now)
            completed.append(source.id)
        items.append(item)
    for start in range(0, len(items), CHUNK):
        stmt = dialect_insert(db_session, SourceUpdate.__table__).values(
            states[start : start + CHUNK]
        )
        await db_session.execute(stmt.on_conflict_do_nothing(index_elements=["source_id"]))
        await db_session.execute(insert(UpdateItem).values(items[start : start + CHUNK]))
    for start in range(0, len(completed), CHUNK):
        await db_session.execute(
            update(SourceUpdate)
            .where(SourceUpdate.source_id.in_(completed[start : start + CHUNK]))
            .values(outcome="skipped", reason=rules.COMPLETED, new_chapters=0, outcome_at=now,
                    error_kind=None, error_message=None, run_id=run.id)
        )  # fmt: skip


@dataclass(frozen=True)
class OutcomeView:
    manga_id: uuid.UUID
    manga_title: str
    source_id: uuid.UUID
    provider_id: str
    outcome: str | None
    new_chapters: int
    reason: str | None
    error_kind: str | None
    error_message: str | None


@dataclass(frozen=True)
class RunView:
    run: UpdateRun
    done: int
    total: int
    outcomes: list[OutcomeView]

    @property
    def status(self) -> str:
        return self.run.status


def _visible_to(user: User | None, run: UpdateRun) -> bool:
    if user is None:
        return True
    return user.is_superuser or run.user_id == user.id or run.scope == "all"


async def get_run(*, db_session: AsyncSession, run_id: uuid.UUID, user: User | None) -> RunView:
    """A run's progress and outcomes. A user sees their own runs and the instance-wide ones
    (limited to the manga in their library); an admin (and the CLI, ``user`` None) sees every
    run whole."""
    run = await db_session.get(UpdateRun, run_id, populate_existing=True)
    if run is None or not _visible_to(user, run):
        raise RunNotFound(f"no update run {run_id}")
    query = (
        select(UpdateItem, Manga.title)
        .join(Manga, Manga.id == UpdateItem.manga_id)
        .where(UpdateItem.run_id == run.id)
        .order_by(UpdateItem.status.desc(), Manga.title_key, UpdateItem.id)
    )
    if user is not None and not (user.is_superuser or run.user_id == user.id):
        mine = select(LibraryEntry.manga_id).where(LibraryEntry.user_id == user.id)
        query = query.where(UpdateItem.manga_id.in_(mine))
    rows = (await db_session.execute(query)).all()
    outcomes = [
        OutcomeView(
            manga_id=item.manga_id,
            manga_title=title,
            source_id=item.source_id,
            provider_id=item.provider_id,
            outcome=item.outcome,
            new_chapters=item.new_chapters,
            reason=item.reason,
            error_kind=item.error_kind,
            error_message=item.error_message,
        )
        for item, title in rows
    ]
    done = sum(1 for o in outcomes if o.outcome is not None)
    return RunView(run=run, done=done, total=len(outcomes), outcomes=outcomes)


async def recent_runs(*, db_session: AsyncSession, user: User, limit: int = 10) -> list[RunView]:
    """The newest runs the user may see (their own and the instance-wide ones), newest first."""
    query = select(UpdateRun.id).order_by(UpdateRun.created_at.desc()).limit(limit)
    if not user.is_superuser:
        query = query.where((UpdateRun.user_id == user.id) | (UpdateRun.scope == "all"))
    ids = list((await db_session.scalars(query)).all())
    return [await get_run(db_session=db_session, run_id=run_id, user=user) for run_id in ids]


# -- notification settings ---------------------------------------------------------------------


@dataclass(frozen=True)
class NotifySettings:
    urls: list[str]
    scope: str


async def get_notifications(*, db_session: AsyncSession, user_id: uuid.UUID) -> NotifySettings:
    row = await db_session.get(NotificationSettings, user_id)
    if row is None:
        return NotifySettings(urls=[], scope="off")
    return NotifySettings(urls=list(row.urls), scope=row.scope)


def check_urls(urls: Sequence[str]) -> None:
    """Each URL must be one Apprise can send to; raises ``InvalidNotifyUrl`` for the first not."""
    import apprise

    for url in urls:
        # One URL each: Apprise would split a string holding spaces or commas into several.
        if any(c.isspace() or c == "," for c in url) or apprise.Apprise.instantiate(url) is None:
            raise InvalidNotifyUrl(url)


async def set_notifications(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    now: datetime,
    urls: Sequence[str] | None = None,
    scope: str | None = None,
) -> NotifySettings:
    """Change what was given (an upsert, so concurrent saves cannot duplicate the row)."""
    current = await get_notifications(db_session=db_session, user_id=user_id)
    if urls is not None:
        check_urls(urls)
    chosen = NotifySettings(
        urls=list(urls) if urls is not None else current.urls, scope=scope or current.scope
    )
    values = {"urls": chosen.urls, "scope": chosen.scope, "updated_at": now}
    stmt = dialect_insert(db_session, NotificationSettings.__table__).values(
        user_id=user_id, **values
    )
    await db_session.execute(stmt.on_conflict_do_update(index_elements=["user_id"], set_=values))
    await db_session.commit()
    return chosen
