"""HTTP routes of the catalog: import from a provider, read a manga (its chapters and pages are
in ``kurobara.reading.routes``)."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from fastapi import APIRouter, HTTPException, Response, status

from kurobara.db.deps import SessionDep
from kurobara.manga import service as manga_service
from kurobara.manga.schemas import ImportRequest, MangaRead
from kurobara.providers.deps import RegistryDep
from kurobara.providers.errors import ProviderError, UnknownManga
from kurobara.providers.registry import UnknownProvider
from kurobara.users.deps import CurrentUser

manga_router = APIRouter(prefix="/manga", tags=["manga"])

_PROVIDER_FAILED: dict[int | str, dict[str, Any]] = {
    status.HTTP_502_BAD_GATEWAY: {"description": "the provider failed; detail has kind, message"},
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "description": "no source of this manga has a configured, enabled provider"
    },
}


def _raise_for(exc: Exception) -> NoReturn:
    """The HTTP answer for a catalog or provider error."""
    if isinstance(exc, manga_service.MangaNotFound):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Manga not found") from exc
    if isinstance(exc, UnknownProvider):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    if isinstance(exc, UnknownManga):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=exc.message) from exc
    if isinstance(exc, manga_service.NoUsableSource):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from exc
    if isinstance(exc, ProviderError):
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY,
            detail={"kind": exc.kind, "message": exc.message, "http_status": exc.status_code},
        ) from exc
    raise exc


_CATALOG_ERRORS = (
    manga_service.MangaNotFound,
    manga_service.NoUsableSource,
    UnknownProvider,
    ProviderError,
)


@manga_router.post(
    "/import",
    response_model=MangaRead,
    status_code=status.HTTP_201_CREATED,
    responses={status.HTTP_200_OK: {"description": "already in the catalog"}, **_PROVIDER_FAILED},
)
async def import_manga(
    payload: ImportRequest,
    response: Response,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
) -> object:
    """Add a manga from a provider to the catalog (201), or return the one it already has (200)."""
    try:
        manga, created = await manga_service.import_source(
            db_session=db_session,
            registry=registry,
            provider_id=payload.provider_id,
            external_id=payload.external_id,
        )
    except _CATALOG_ERRORS as exc:
        _raise_for(exc)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return manga


@manga_router.get("/{manga_id}", response_model=MangaRead)
async def read_manga(manga_id: uuid.UUID, user: CurrentUser, db_session: SessionDep) -> object:
    manga = await manga_service.get_manga(db_session=db_session, manga_id=manga_id)
    if manga is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Manga not found")
    return manga
