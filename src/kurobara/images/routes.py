"""HTTP route of the image proxy: ``GET /api/v1/images/{token}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from kurobara.images.service import ImageError, ImageProxy, ImageUnavailable, read_chunks
from kurobara.images.tokens import MAX_TOKEN_LENGTH

images_router = APIRouter(prefix="/images", tags=["images"])

# An image behind a token never changes (the token names one upstream URL), so browsers may
# keep it for a year without asking again.
CACHE_FOREVER = "public, max-age=31536000, immutable"
# A proxied SVG is the source's markup on our origin: opened directly it must not run
# anything or reach anything.
SANDBOX = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def get_images(request: Request) -> ImageProxy:
    proxy: ImageProxy = request.app.state.images
    return proxy


ImagesDep = Annotated[ImageProxy, Depends(get_images)]

_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"description": "Not a token this server signed (nothing was fetched)"},
    502: {"description": "The source site did not give the image"},
}


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
    headers = {
        "Cache-Control": CACHE_FOREVER,
        "Content-Security-Policy": SANDBOX,
        "X-Content-Type-Options": "nosniff",
        "X-Cache": served.cache.upper(),
    }
    if served.content is not None:
        return Response(served.content, media_type=served.content_type, headers=headers)
    assert served.stream is not None
    headers["Content-Length"] = str(served.size)
    return StreamingResponse(
        read_chunks(served.stream), media_type=served.content_type, headers=headers
    )
