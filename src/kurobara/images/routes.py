"""HTTP route of the image proxy: ``GET /api/v1/images/{token}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, StrictBool

from kurobara.db.deps import SessionDep
from kurobara.images import preferences
from kurobara.images.links import IMAGE_HEADERS
from kurobara.images.service import (
    ImageError,
    ImageProxy,
    ImageUnavailable,
    ServedImage,
    read_chunks,
)
from kurobara.images.tokens import MAX_TOKEN_LENGTH
from kurobara.users.deps import CurrentUser

images_router = APIRouter(prefix="/images", tags=["images"])


def get_images(request: Request) -> ImageProxy:
    proxy: ImageProxy = request.app.state.images
    return proxy


ImagesDep = Annotated[ImageProxy, Depends(get_images)]

_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"description": "Not a token this server signed (nothing was fetched)"},
    502: {"description": "The source site did not give the image"},
}


class ImagePreferencesRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    data_saver: bool


class ImagePreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_saver: StrictBool


@images_router.get("/preferences", response_model=ImagePreferencesRead)
async def read_preferences(user: CurrentUser, db_session: SessionDep) -> Any:
    """The caller's image preferences: ``data_saver`` serves MangaDex's compressed pages."""
    return await preferences.get_preferences(db_session=db_session, user_id=user.id)


@images_router.put("/preferences", response_model=ImagePreferencesRead)
async def save_preferences(
    payload: ImagePreferencesUpdate, user: CurrentUser, db_session: SessionDep
) -> Any:
    """Set the caller's image preferences (they apply to page lists asked for afterwards)."""
    return await preferences.set_preferences(
        db_session=db_session, user_id=user.id, data_saver=payload.data_saver
    )


@images_router.get("/{token}", response_class=Response, responses=_ERRORS)
async def get_image(
    token: Annotated[str, Path(min_length=1, max_length=MAX_TOKEN_LENGTH)], images: ImagesDep
) -> Response:
    """A cover or page image, from the disk cache or fetched from its source with the
    source's headers; the URLs in manga, library and page lists point here."""
    try:
        served = await images.serve(token)
    except ImageError as exc:
        body: dict[str, object] = {"detail": str(exc)}
        if isinstance(exc, ImageUnavailable):
            body["kind"] = exc.kind
        return JSONResponse(
            body, status_code=exc.status_code, headers={"Cache-Control": "no-store"}
        )
    return image_response(served, {"X-Cache": served.cache.upper()})


def image_response(served: ServedImage, headers: dict[str, str]) -> Response:
    """An image the proxy or a catalog serves: its bytes, or its cached file streamed, with
    the image headers (``IMAGE_HEADERS``, then ``headers`` over them)."""
    headers = {**dict(IMAGE_HEADERS), **headers}
    if served.content is not None:
        return Response(served.content, media_type=served.content_type, headers=headers)
    assert served.stream is not None
    headers["Content-Length"] = str(served.size)
    return StreamingResponse(
        read_chunks(served.stream), media_type=served.content_type, headers=headers
    )
