"""HTTP routes of reading: a manga's chapter list and a chapter's pages, progress, read marks,
the history and the reader's layout per manga. Every answer is the current user's; errors
become HTTP answers in one place."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status

from kurobara.db.deps import SessionDep
from kurobara.manga.service import MangaNotFound, NoUsableSource
from kurobara.monitoring.deps import ClockDep, SettingsDep
from kurobara.providers.deps import RegistryDep
from kurobara.providers.errors import ProviderError, UnknownManga
from kurobara.reading import listing, preferences, progress
from kurobara.reading.rules import ReaderLayout
from kurobara.reading.schemas import (
    ChapterListRead,
    FallbackRead,
    HistoryClearQuery,
    HistoryItemRead,
    HistoryQuery,
    MarkRequest,
    MarkResult,
    PageListRead,
    ProgressRead,
    ProgressUpdate,
    ReaderPreferencesRead,
    ReaderPreferencesUpdate,
)
from kurobara.reading.service import ProviderSkipped
from kurobara.users.deps import CurrentUser

TOTAL_HEADER = "X-Total-Count"


async def reading_errors() -> AsyncIterator[None]:
    """Turn the reading services' errors into HTTP answers."""
    try:
        yield
    except MangaNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Manga not found") from exc
    except listing.ChapterNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Chapter not found") from exc
    except listing.ExternalChapter as exc:
        external: dict[str, Any] = {
            "message": "This chapter is hosted on another site; read it there",
            "external_url": exc.external_url,
        }
        raise HTTPException(status.HTTP_409_CONFLICT, detail=external) from exc
    except UnknownManga as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=exc.message) from exc
    except progress.ChaptersRefused as exc:
        refused: dict[str, Any] = {
            "message": "Not chapters of this manga; nothing was changed",
            "chapter_ids": [str(i) for i in exc.chapter_ids],
        }
        # 404 as the library's bulk writes answer unknown ids (a 422 is a validation error).
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=refused) from exc
    except NoUsableSource as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from exc
    except ProviderSkipped as exc:
        detail: dict[str, Any] = {
            "message": str(exc),
            "provider_id": exc.provider_id,
            "reason": exc.reason,
            "error_kind": exc.error_kind,
        }
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=detail) from exc
    except ProviderError as exc:
        failure: dict[str, Any] = {
            "kind": exc.kind,
            "message": exc.message,
            "http_status": exc.status_code,
        }
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=failure) from exc


reading_router = APIRouter(tags=["reading"], dependencies=[Depends(reading_errors)])

_PROVIDER_FAILED: dict[int | str, dict[str, Any]] = {
    status.HTTP_502_BAD_GATEWAY: {"description": "the provider failed and nothing is stored"},
    status.HTTP_503_SERVICE_UNAVAILABLE: {"description": "no provider may be asked now"},
}


@reading_router.get(
    "/manga/{manga_id}/chapters", response_model=ChapterListRead, responses=_PROVIDER_FAILED
)
async def list_chapters(
    manga_id: uuid.UUID,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Any:
    """Every chapter in provider order (oldest first) with the caller's ``read`` and
    ``last_page``; from the database, refreshed from the provider when older than
    ``KUROBARA_CHAPTER_CACHE_SECONDS``; ``stale`` when it could not be."""
    return await listing.chapter_listing(
        db_session=db_session,
        registry=registry,
        manga_id=manga_id,
        user_id=user.id,
        max_age_seconds=settings.chapter_cache_seconds,
        clock=clock,
    )


@reading_router.get(
    "/manga/{manga_id}/chapters/{chapter_id:path}/pages",
    response_model=PageListRead,
    responses={
        **_PROVIDER_FAILED,
        status.HTTP_409_CONFLICT: {
            "description": "the chapter is hosted on another site: `detail.external_url`"
        },
    },
)
async def list_pages(
    manga_id: uuid.UUID,
    chapter_id: Annotated[str, Path(min_length=1, max_length=500)],
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> PageListRead:
    """The page image URLs of one chapter (its ``id``; the site's ``external_id`` also works)."""
    found = await listing.chapter_pages(
        db_session=db_session,
        registry=registry,
        manga_id=manga_id,
        user_id=user.id,
        chapter_ref=chapter_id,
        max_age_seconds=settings.chapter_cache_seconds,
        clock=clock,
    )
    return _page_list(found)


@reading_router.get(
    "/chapters/{chapter_id}/pages", response_model=PageListRead, responses=_PROVIDER_FAILED
)
async def chapter_pages(
    chapter_id: uuid.UUID,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> PageListRead:
    """The same as the manga-scoped route, by the chapter's id alone. A downloaded chapter's
    pages are served from its CBZ here, so it reads while its provider is down."""
    found = await listing.pages_of_chapter(
        db_session=db_session,
        registry=registry,
        chapter_id=chapter_id,
        user_id=user.id,
        max_age_seconds=settings.chapter_cache_seconds,
        clock=clock,
    )
    return _page_list(found)


def _page_list(found: listing.PageListing) -> PageListRead:
    return PageListRead(
        manga_id=found.manga_id,
        provider_id=found.provider_id,
        chapter_id=found.chapter.id,
        external_id=found.chapter.external_id,
        page_count=len(found.pages),
        pages=found.pages,
        fallback=FallbackRead.model_validate(found.fallback) if found.fallback else None,
    )


@reading_router.patch("/chapters/{chapter_id}/progress", response_model=ProgressRead)
async def set_progress(
    chapter_id: uuid.UUID,
    payload: ProgressUpdate,
    user: CurrentUser,
    db_session: SessionDep,
    clock: ClockDep,
) -> Any:
    """Record the caller's last page and/or read mark in one chapter."""
    return await progress.set_progress(
        db_session=db_session,
        user_id=user.id,
        chapter_id=chapter_id,
        last_page=payload.last_page,
        read=payload.read,
        clock=clock,
    )


@reading_router.get("/manga/{manga_id}/reader-preferences", response_model=ReaderPreferencesRead)
async def get_reader_preferences(
    manga_id: uuid.UUID, user: CurrentUser, db_session: SessionDep
) -> ReaderPreferencesRead:
    """The reading mode and fit the reader opens this manga in for the caller."""
    layout = await preferences.get_layout(db_session=db_session, user_id=user.id, manga_id=manga_id)
    return _layout(manga_id, layout)


@reading_router.put("/manga/{manga_id}/reader-preferences", response_model=ReaderPreferencesRead)
async def put_reader_preferences(
    manga_id: uuid.UUID,
    payload: ReaderPreferencesUpdate,
    user: CurrentUser,
    db_session: SessionDep,
    clock: ClockDep,
) -> ReaderPreferencesRead:
    """Remember the caller's reading mode and fit for this manga (on every device)."""
    layout = await preferences.set_layout(
        db_session=db_session,
        user_id=user.id,
        manga_id=manga_id,
        mode=payload.mode,
        fit=payload.fit,
        clock=clock,
    )
    return _layout(manga_id, layout)


def _layout(manga_id: uuid.UUID, layout: ReaderLayout) -> ReaderPreferencesRead:
    return ReaderPreferencesRead(
        manga_id=manga_id, mode=layout.mode, fit=layout.fit, remembered=layout.remembered
    )


@reading_router.post("/manga/{manga_id}/chapters/read", response_model=MarkResult)
async def mark_chapters(
    manga_id: uuid.UUID,
    payload: MarkRequest,
    user: CurrentUser,
    db_session: SessionDep,
    clock: ClockDep,
) -> MarkResult:
    """Mark chapters read or unread, or ``up_to`` one (and all before it) read; all or
    nothing."""
    marked = await progress.mark_chapters(
        db_session=db_session,
        user_id=user.id,
        manga_id=manga_id,
        read=payload.read,
        chapter_ids=payload.chapter_ids or (),
        up_to=payload.up_to,
        clock=clock,
    )
    return MarkResult(
        manga_id=marked.manga_id,
        read=marked.read,
        updated=len(marked.chapter_ids),
        chapter_ids=marked.chapter_ids,
    )


@reading_router.get("/history", response_model=list[HistoryItemRead])
async def list_history(
    query: Annotated[HistoryQuery, Query()],
    response: Response,
    user: CurrentUser,
    db_session: SessionDep,
) -> list[HistoryItemRead]:
    """The chapters the caller read in, most recent first; the total in ``X-Total-Count``."""
    page = await progress.history(
        db_session=db_session, user_id=user.id, page=query.page, limit=query.limit
    )
    response.headers[TOTAL_HEADER] = str(page.total)
    return [
        HistoryItemRead.model_validate(
            {
                "chapter_id": item.progress.chapter_id,
                "manga_id": item.progress.manga_id,
                "last_page": item.progress.last_page,
                "read": item.progress.read,
                "read_at": item.progress.read_at,
                "chapter": item.chapter,
                "manga": item.manga,
            },
            from_attributes=True,
        )
        for item in page.items
    ]


@reading_router.delete("/history", status_code=status.HTTP_204_NO_CONTENT)
async def clear_history(
    query: Annotated[HistoryClearQuery, Query()], user: CurrentUser, db_session: SessionDep
) -> None:
    """Clear the caller's history (or one manga's: ``?manga_id=``); read marks stay."""
    await progress.clear_history(db_session=db_session, user_id=user.id, manga_id=query.manga_id)
