"""HTTP routes of local archives: upload a CBZ/ZIP, and the pages of uploaded chapters."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Path, UploadFile, status
from fastapi.responses import Response

from kurobara.db.deps import SessionDep
from kurobara.images import uploads
from kurobara.images.archives import ArchiveRefused
from kurobara.images.local import LocalStore
from kurobara.images.routes import image_response
from kurobara.images.schemas import UploadRead
from kurobara.images.service import ServedImage
from kurobara.manga.schemas import MangaRead
from kurobara.manga.service import MangaNotFound
from kurobara.monitoring.deps import SettingsDep
from kurobara.providers.deps import RegistryDep
from kurobara.reading.listing import ChapterView
from kurobara.reading.schemas import ChapterRead
from kurobara.users.deps import CurrentUser

local_router = APIRouter(tags=["local archives"])

_REFUSED: dict[int | str, dict[str, Any]] = {
    status.HTTP_400_BAD_REQUEST: {
        "description": "the archive was refused (detail: kind, message); nothing was stored"
    },
    status.HTTP_404_NOT_FOUND: {"description": "no manga with that manga_id"},
    status.HTTP_409_CONFLICT: {"description": "manga_id is not a local manga"},
    status.HTTP_413_CONTENT_TOO_LARGE: {
        "description": "the upload or what it unpacks to is too large"
    },
}

KeyPath = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
TitleForm = Annotated[str | None, Form(max_length=500)]


@local_router.post(
    "/manga/upload",
    response_model=UploadRead,
    status_code=status.HTTP_201_CREATED,
    responses={status.HTTP_200_OK: {"description": "chapters added to manga_id"}, **_REFUSED},
)
async def upload_manga(
    file: Annotated[UploadFile, File(description="a CBZ or ZIP of images (folders = chapters)")],
    response: Response,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    title: TitleForm = None,
    manga_id: Annotated[uuid.UUID | None, Form()] = None,
) -> UploadRead:
    """A CBZ/ZIP as a new local manga (201, added to your library), or, with ``manga_id``, as
    new chapters of a local manga (200). Images at the archive's root are one chapter; each
    folder of images is another."""
    if title is not None and ("\x00" in title or not title.strip()):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="title must be non-empty text")
    try:
        result = await uploads.upload_archive(
            db_session=db_session,
            registry=registry,
            store=LocalStore(settings.data_dir / "local"),
            user_id=user.id,
            archive=file.file,
            filename=file.filename,
            title=title.strip() if title else None,
            manga_id=manga_id,
            max_unpacked_bytes=settings.upload_max_unpacked_bytes,
        )
    except ArchiveRefused as exc:
        code = (
            status.HTTP_413_CONTENT_TOO_LARGE
            if exc.kind == "too_large"
            else status.HTTP_400_BAD_REQUEST
        )
        raise HTTPException(code, detail={"kind": exc.kind, "message": exc.message}) from exc
    except MangaNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Manga not found") from exc
    except uploads.NotLocalManga as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return UploadRead(
        manga=MangaRead.model_validate(result.manga),
        created=result.created,
        chapters=[
            ChapterRead.model_validate(ChapterView.of(c, None), from_attributes=True)
            for c in result.chapters
        ],
    )


@local_router.get(
    "/local/{manga_key}/{chapter_key}/{page}",
    response_class=Response,
    responses={
        status.HTTP_200_OK: {"content": {"image/*": {}}, "description": "the page image"},
        status.HTTP_404_NOT_FOUND: {"description": "no such local page"},
    },
)
async def local_page(
    manga_key: KeyPath,
    chapter_key: KeyPath,
    page: Annotated[int, Path(ge=1, le=100_000)],
    user: CurrentUser,
    settings: SettingsDep,
) -> Response:
    """One page image of an uploaded chapter (the ``url`` the pages list hands out)."""
    store = LocalStore(settings.data_dir / "local")
    found = await asyncio.to_thread(store.page, manga_key, chapter_key, page)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Page not found")
    media_type, data = found
    # A key's pages never change: a chapter added later gets a key of its own.
    return image_response(
        ServedImage(content_type=media_type, content=data),
        {"Cache-Control": "private, max-age=31536000, immutable"},
    )
