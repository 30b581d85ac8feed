"""The Upload page: a CBZ/ZIP becomes a local manga, or new chapters of one (``?manga_id=``).
``static/js/upload.js`` sends the file to ``POST /api/v1/manga/upload``, the API's own route."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kurobara.db.deps import SessionDep
from kurobara.images.local import LOCAL_PROVIDER_ID
from kurobara.manga import service as manga_service
from kurobara.monitoring.deps import SettingsDep
from kurobara.web.pages import render
from kurobara.web.session import SignedInUser

router = APIRouter(include_in_schema=False)


@router.get("/upload", name="web:upload")
async def upload_page(
    request: Request,
    user: SignedInUser,
    db_session: SessionDep,
    settings: SettingsDep,
    manga_id: str | None = None,
) -> Response:
    target = None
    if manga_id:
        try:
            parsed = uuid.UUID(manga_id)
        except ValueError:
            parsed = None
        manga = (
            await manga_service.get_manga(db_session=db_session, manga_id=parsed)
            if parsed is not None
            else None
        )
        if manga is not None and any(s.provider_id == LOCAL_PROVIDER_ID for s in manga.sources):
            target = manga
    return render(
        request,
        "upload.html",
        user=user,
        target=target,
        max_mib=settings.upload_max_bytes // (1024 * 1024),
    )
