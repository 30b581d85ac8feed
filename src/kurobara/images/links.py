"""The addresses the API and the UI hand out for covers and pages: ``/api/v1/images/<token>``
on this server, never the source's.

The token is signed with the instance key, which the app holds, while covers are shaped into
responses in many places (``MangaRead``, ``MangaSummary`` in library, updates and history
lists, templates). So the app's ``ImageProxy`` is bound to the request's context by a small
ASGI middleware (``bind_images``), and ``Manga.cover_url`` and ``page_links`` read it from
there. Outside a request (a CLI export, a background job) nothing is bound and covers have no
proxied URL (``None``); page links are then the source's.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from kurobara.images.tokens import ImageRef
from kurobara.providers.base import Page, SearchResult

if TYPE_CHECKING:
    from kurobara.images.service import ImageProxy
    from kurobara.manga.models import Manga

IMAGES_PATH = "/api/v1/images/"
# An image behind a token never changes (the token names one upstream URL), so browsers may
# keep it for a year without asking again. A proxied SVG is the source's markup on our
# origin: opened directly it must not run anything or reach anything.
IMAGE_HEADERS: tuple[tuple[str, str], ...] = (
    ("Cache-Control", "public, max-age=31536000, immutable"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
    ),
    ("X-Content-Type-Options", "nosniff"),
)

_bound: ContextVar[ImageProxy | None] = ContextVar("kurobara_images", default=None)


def image_path(ref: ImageRef) -> str | None:
    proxy = _bound.get()
    if proxy is None:
        return None
    return IMAGES_PATH + proxy.token(ref)


def _own(url: str) -> bool:
    """An address on this server already (a local archive's page): nothing to proxy."""
    return url.startswith("/") and not url.startswith("//")


def cover_link(provider_id: str, cover_image: str | None, manga_url: str | None) -> str | None:
    if not cover_image:
        return None
    if _own(cover_image):
        return cover_image
    return image_path(ImageRef(provider_id, "cover", cover_image, referer=manga_url))


def manga_cover_link(manga: Manga) -> str | None:
    """A manga's cover through the proxy, fetched as the source it was imported from."""
    if not manga.cover_image:
        return None
    if _own(manga.cover_image):
        return manga.cover_image
    sources = manga.__dict__.get("sources")  # never a lazy load (no I/O in a property)
    if sources:
        first = min(sources, key=lambda source: (source.created_at is None, source.created_at))
        return cover_link(first.provider_id, manga.cover_image, first.url)
    # Lists that skip loading sources (the library's pages): the provider whose site serves
    # the cover's host.
    proxy = _bound.get()
    provider_id = proxy.provider_for_url(manga.cover_image) if proxy is not None else None
    return None if provider_id is None else cover_link(provider_id, manga.cover_image, None)


def page_links(
    provider_id: str, pages: Sequence[Page], *, chapter: str, chapter_url: str | None
) -> list[Page]:
    """The pages with proxied URLs (the source's when no proxy is bound)."""
    linked: list[Page] = []
    for page in pages:
        if _own(page.url):
            linked.append(page)
            continue
        ref = ImageRef(provider_id, "page", page.url, referer=chapter_url, chapter=chapter)
        linked.append(Page(index=page.index, url=image_path(ref) or page.url))
    return linked


class bind_images:
    """Makes the app's image proxy the one links are signed with during each request, and
    answers a cached page itself: a hit is a token check, a dictionary lookup and one read,
    and FastAPI's routing and dependencies would cost more than that (bench/images.py). A
    miss, a refused token, a cover or anything else goes on to the route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        proxy = getattr(scope["app"].state, "images", None) if "app" in scope else None
        if proxy is not None and scope["type"] == "http" and await _cached(proxy, scope, send):
            return
        reset = _bound.set(proxy)
        try:
            await self.app(scope, receive, send)
        finally:
            _bound.reset(reset)


async def _cached(proxy: ImageProxy, scope: Scope, send: Send) -> bool:
    """Send a cached page for ``GET /api/v1/images/<token>``; False when it is not one."""
    path: str = scope["path"]
    if scope["method"] not in ("GET", "HEAD") or not path.startswith(IMAGES_PATH):
        return False
    served = proxy.cached(path[len(IMAGES_PATH) :])
    if served is None or served.content is None:
        return False
    headers = [(name.lower().encode(), value.encode()) for name, value in IMAGE_HEADERS]
    headers += [
        (b"content-type", served.content_type.encode()),
        (b"content-length", str(served.size).encode()),
        (b"x-cache", b"HIT"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    body = served.content if scope["method"] == "GET" else b""
    await send({"type": "http.response.body", "body": body})
    return True


def search_results_with_proxied_covers(results: list[SearchResult]) -> list[SearchResult]:
    """Search results whose ``cover_url`` points at the proxy (None when none is bound)."""
    return [
        result.model_copy(
            update={"cover_url": cover_link(result.provider_id, result.cover_url, result.url)}
        )
        for result in results
    ]
