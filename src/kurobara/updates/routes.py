"""HTTP routes: library update runs (``/library/updates``), the Updates feed (``/updates``) and
new-chapter notification settings (``/users/me/notifications``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status

from kurobara.db.deps import SessionDep
from kurobara.library.schemas import MangaSummary
from kurobara.updates import feed, service
from kurobara.updates.schemas import (
    FeedItemRead,
    FeedQuery,
    NotificationsChanges,
    NotificationsRead,
    OutcomeRead,
    RunRead,
    RunStarted,
    ScheduleChanges,
    ScheduleRead,
)
from kurobara.users.deps import AdminUser, CurrentUser

TOTAL_HEADER = "X-Total-Count"


async def updates_errors() -> AsyncIterator[None]:
    try:
        yield
    except service.RunNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except service.InvalidNotifyUrl as exc:
        # The shape of every other 422 (a validation error), as the API document promises.
        problem = {"type": "value_error", "loc": ["body", "urls"], "msg": str(exc)}
        raise HTTPException(422, detail=[problem]) from exc


library_updates_router = APIRouter(
    prefix="/library/updates", tags=["updates"], dependencies=[Depends(updates_errors)]
)
updates_router = APIRouter(prefix="/updates", tags=["updates"])
notifications_router = APIRouter(
    prefix="/users/me/notifications", tags=["users"], dependencies=[Depends(updates_errors)]
)


def _now(request: Request) -> Any:
    return request.app.state.clock.now()


def run_read(view: service.RunView) -> RunRead:
    run = view.run
    return RunRead(
        run_id=run.id,
        status=run.status,
        trigger=run.trigger,
        scope=run.scope,
        provider_id=run.provider_id,
        created_at=run.created_at,
        finished_at=run.finished_at,
        done=view.done,
        total=view.total,
        outcomes=[OutcomeRead.model_validate(o) for o in view.outcomes],
    )


@library_updates_router.post("", response_model=RunStarted, status_code=status.HTTP_202_ACCEPTED)
async def start_update(
    request: Request,
    user: CurrentUser,
    db_session: SessionDep,
    scope: Annotated[Literal["library", "all"], Query()] = "library",
) -> RunStarted:
    """Update the caller's library now (admins: ``?scope=all``, everyone's); a run of the same
    scope already going is joined. The work is done by the updater of any replica."""
    if scope == "all" and not user.is_superuser:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Only an admin may update all")
    now = _now(request)
    schedule = await service.get_schedule(
        db_session=db_session, settings=request.app.state.settings, now=now
    )
    started = await service.start_run(
        db_session=db_session,
        trigger="manual",
        scope="all" if scope == "all" else "user",
        user_id=user.id,
        now=now,
        skip_completed=schedule.skip_completed,
    )
    assert started is not None  # no dedupe key: a run is started or joined
    updater = getattr(request.app.state, "updater", None)
    if updater is not None:
        updater.wake()
    run = started.run
    return RunStarted(run_id=run.id, status=run.status, total=run.total, joined=started.joined)


@library_updates_router.get("", response_model=list[RunRead])
async def list_updates(
    user: CurrentUser,
    db_session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[RunRead]:
    """The newest runs the caller may see (their own and the instance-wide ones)."""
    views = await service.recent_runs(db_session=db_session, user=user, limit=limit)
    return [run_read(view) for view in views]


@library_updates_router.get("/schedule", response_model=ScheduleRead)
async def read_schedule(request: Request, user: CurrentUser, db_session: SessionDep) -> Any:
    return await service.get_schedule(
        db_session=db_session, settings=request.app.state.settings, now=_now(request)
    )


@library_updates_router.patch("/schedule", response_model=ScheduleRead)
async def change_schedule(
    changes: ScheduleChanges, request: Request, admin: AdminUser, db_session: SessionDep
) -> Any:
    """The instance admin sets the interval (1..168 hours) and the completed-series skip."""
    return await service.set_schedule(
        db_session=db_session,
        settings=request.app.state.settings,
        now=_now(request),
        interval_hours=changes.interval_hours,
        skip_completed=changes.skip_completed,
    )


@library_updates_router.get("/{run_id}", response_model=RunRead)
async def read_update(run_id: uuid.UUID, user: CurrentUser, db_session: SessionDep) -> RunRead:
    view = await service.get_run(db_session=db_session, run_id=run_id, user=user)
    return run_read(view)


@updates_router.get("", response_model=list[FeedItemRead])
async def list_feed(
    query: Annotated[FeedQuery, Query()],
    response: Response,
    user: CurrentUser,
    db_session: SessionDep,
) -> list[FeedItemRead]:
    """New chapters across the caller's library, newest first, each with its manga."""
    page = await feed.list_new_chapters(
        db_session=db_session, user_id=user.id, page=query.page, limit=query.limit
    )
    response.headers[TOTAL_HEADER] = str(page.total)
    return [
        FeedItemRead(
            manga_id=item.manga.id,
            chapter_id=item.chapter.id,
            number=item.chapter.number_text,
            title=item.chapter.title,
            volume=item.chapter.volume,
            published_at=item.chapter.published_at,
            first_seen_at=item.chapter.first_seen_at,
            read=item.read,
            manga=MangaSummary.model_validate(item.manga),
        )
        for item in page.items
    ]


@notifications_router.get("", response_model=NotificationsRead)
async def read_notifications(user: CurrentUser, db_session: SessionDep) -> Any:
    return await service.get_notifications(db_session=db_session, user_id=user.id)


@notifications_router.patch("", response_model=NotificationsRead)
async def change_notifications(
    changes: NotificationsChanges, request: Request, user: CurrentUser, db_session: SessionDep
) -> Any:
    """Apprise URLs and the scope (``favorites``, ``library`` or ``off``) of new-chapter
    notifications; only what is given changes."""
    return await service.set_notifications(
        db_session=db_session,
        user_id=user.id,
        now=_now(request),
        urls=changes.urls,
        scope=changes.scope,
    )
