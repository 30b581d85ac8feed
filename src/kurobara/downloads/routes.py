"""HTTP routes of downloads: queue chapters or a manga, the caller's queue with progress,
delete, storage totals, the auto-download rule, a downloaded chapter's CBZ and its pages."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import FileResponse

from kurobara.db.deps import SessionDep
from kurobara.downloads import service
from kurobara.downloads.jobs import downloads_root
from kurobara.downloads.schemas import (
    DownloadRead,
    DownloadRuleRead,
    DownloadRuleUpdate,
    MangaDownloadRequest,
    QueueRequest,
    UsageRead,
)
from kurobara.images.routes import image_response
from kurobara.images.service import ServedImage
from kurobara.manga.service import MangaNotFound
from kurobara.monitoring.deps import ClockDep, SettingsDep
from kurobara.users.deps import CurrentUser


async def download_errors() -> AsyncIterator[None]:
    try:
        yield
    except service.DownloadNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Download not found") from exc
    except MangaNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Manga not found") from exc
    except service.ChaptersNotFound as exc:
        detail = {
            "message": "Unknown chapters; nothing was queued",
            "chapter_ids": [str(i) for i in exc.chapter_ids],
        }
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=detail) from exc


downloads_router = APIRouter(tags=["downloads"], dependencies=[Depends(download_errors)])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"description": "not found"}
}


def _wake(request: Request) -> None:
    downloader = getattr(request.app.state, "downloader", None)
    if downloader is not None:
        downloader.wake()


def _read(views: list[service.DownloadView]) -> list[DownloadRead]:
    return [DownloadRead.model_validate(view, from_attributes=True) for view in views]


@downloads_router.post(
    "/downloads",
    response_model=list[DownloadRead],
    status_code=status.HTTP_201_CREATED,
    responses=_NOT_FOUND,
)
async def queue_chapters(
    payload: QueueRequest,
    request: Request,
    user: CurrentUser,
    db_session: SessionDep,
    clock: ClockDep,
) -> list[DownloadRead]:
    """Queue chapters for download (all or nothing; asking again changes nothing)."""
    views = await service.queue_chapters(
        db_session=db_session, user_id=user.id, chapter_ids=payload.chapter_ids, now=clock.now()
    )
    _wake(request)
    return _read(views)


@downloads_router.post(
    "/manga/{manga_id}/download",
    response_model=list[DownloadRead],
    status_code=status.HTTP_201_CREATED,
    responses=_NOT_FOUND,
)
async def queue_manga(
    manga_id: uuid.UUID,
    request: Request,
    user: CurrentUser,
    db_session: SessionDep,
    clock: ClockDep,
    payload: MangaDownloadRequest | None = None,
) -> list[DownloadRead]:
    """Queue a manga's stored chapters: the ones you have not read (default) or all of them."""
    chapters = payload.chapters if payload is not None else "unread"
    views = await service.queue_manga(
        db_session=db_session,
        user_id=user.id,
        manga_id=manga_id,
        unread_only=chapters == "unread",
        now=clock.now(),
    )
    _wake(request)
    return _read(views)


@downloads_router.get("/downloads", response_model=list[DownloadRead])
async def list_downloads(
    user: CurrentUser,
    db_session: SessionDep,
    manga_id: Annotated[uuid.UUID | None, Query()] = None,
) -> list[DownloadRead]:
    """Your download queue, newest first, with each chapter's state and pages done."""
    views = await service.list_downloads(db_session=db_session, user_id=user.id, manga_id=manga_id)
    return _read(views)


@downloads_router.get("/downloads/usage", response_model=UsageRead)
async def usage(user: CurrentUser, db_session: SessionDep) -> Any:
    """The disk space your finished downloads take."""
    return await service.usage(db_session=db_session, user_id=user.id)


@downloads_router.get("/downloads/rules", response_model=DownloadRuleRead)
async def read_rule(user: CurrentUser, db_session: SessionDep) -> Any:
    """Your auto-download rule: new chapters of your favorites are downloaded when found."""
    return await service.get_rule(db_session=db_session, user_id=user.id)


@downloads_router.put("/downloads/rules", response_model=DownloadRuleRead)
async def save_rule(payload: DownloadRuleUpdate, user: CurrentUser, db_session: SessionDep) -> Any:
    return await service.set_rule(
        db_session=db_session,
        user_id=user.id,
        favorites_new_chapters=payload.favorites_new_chapters,
    )


@downloads_router.delete(
    "/downloads/{request_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND
)
async def delete_download(
    request_id: uuid.UUID, user: CurrentUser, db_session: SessionDep, settings: SettingsDep
) -> None:
    """Cancel a queued download or delete a finished one; its file is removed (the space
    freed) unless another user downloaded the same chapter."""
    await service.delete_download(
        db_session=db_session,
        user_id=user.id,
        request_id=request_id,
        files=downloads_root(settings),
    )


@downloads_router.get(
    "/chapters/{chapter_id}/download",
    response_class=FileResponse,
    responses={
        status.HTTP_200_OK: {"content": {"application/vnd.comicbook+zip": {}}},
        **_NOT_FOUND,
    },
)
async def download_file(
    chapter_id: uuid.UUID, user: CurrentUser, db_session: SessionDep, settings: SettingsDep
) -> FileResponse:
    """The CBZ of a chapter you downloaded (pages in order, ComicInfo.xml), as an attachment."""
    found = await service.finished_file(
        db_session=db_session, chapter_id=chapter_id, user_id=user.id
    )
    path = downloads_root(settings).cbz_path(found.manga_id, found.chapter_id) if found else None
    if found is None or path is None or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No finished download")
    return FileResponse(path, media_type="application/vnd.comicbook+zip", filename=found.name)


@downloads_router.get(
    "/downloads/chapters/{chapter_id}/pages/{page}",
    response_class=Response,
    responses={
        status.HTTP_200_OK: {"content": {"image/*": {}}, "description": "the page image"},
        **_NOT_FOUND,
    },
)
async def downloaded_page(
    chapter_id: uuid.UUID,
    page: Annotated[int, Path(ge=1, le=100_000)],
    user: CurrentUser,
    db_session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """One page of a downloaded chapter, read from its CBZ (the reader's URL for it)."""
    found = await service.finished_file(db_session=db_session, chapter_id=chapter_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Page not found")
    files = downloads_root(settings)
    entry = await asyncio.to_thread(files.page, found.manga_id, found.chapter_id, page)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Page not found")
    media_type, data = entry
    return image_response(
        ServedImage(content_type=media_type, content=data),
        {"Cache-Control": "private, max-age=86400"},
    )
