"""One image from a provider's site: the request a browser on that site would send (the
provider's image headers, the Referer of the page the image appeared on), through the shared
``HttpClient`` and its per-provider rate limit, checked to be an image.

This is the one function the proxy and the downloader call to fetch a cover or a page; it
raises the classified ``ProviderError`` of ``providers/errors.py`` (``ParseFailure`` when the
site answers something that is not an image).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kurobara.providers.errors import ParseFailure
from kurobara.providers.http import HttpClient

if TYPE_CHECKING:
    # A type only: the health probe (``providers/probe.py``) imports this module, so it must
    # not import the provider interface at run time.
    from kurobara.providers.base import Provider

# Magic numbers of the formats a page or a cover comes in, for sites that label images
# ``application/octet-stream`` (or not at all).
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"ftypavif", 4, "image/avif"),
    (b"BM", 0, "image/bmp"),
)


@dataclass(frozen=True, slots=True)
class UpstreamImage:
    content: bytes
    content_type: str  # always an image/* type (SVG too: the proxy serves it sandboxed)
    url: str  # after redirects
    elapsed_ms: int  # the exchange alone, without the wait for a rate-limit slot
    # The serving node said it answered from its own cache (MangaDex@Home's ``X-Cache: HIT``).
    upstream_cached: bool = False

    @property
    def size(self) -> int:
        return len(self.content)


def sniff_image_type(content: bytes) -> str | None:
    """The image type the bytes themselves declare, or None when they are no known image."""
    for magic, offset, content_type in _SIGNATURES:
        if content[offset : offset + len(magic)] == magic:
            return content_type
    return None


def image_request_headers(provider: Provider, referer: str | None) -> dict[str, str]:
    """The provider's image headers, with ``referer`` (the chapter's or the manga's page) in
    place of the generic one. A provider whose images need no Referer (MangaDex) sends none."""
    headers = dict(provider.image_headers())
    has_referer = any(name.lower() == "referer" for name in headers)
    if referer and has_referer:
        headers = {k: v for k, v in headers.items() if k.lower() != "referer"}
        headers["Referer"] = referer
    headers.setdefault("Accept", "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8")
    return headers


async def fetch_image(
    http: HttpClient,
    provider: Provider,
    url: str,
    *,
    referer: str | None = None,
    timeout: float | None = None,
) -> UpstreamImage:
    """GET one image for ``provider``; raises the classified ``ProviderError`` on failure."""
    response = await http.get(
        provider.id,
        url,
        headers=image_request_headers(provider, referer),
        timeout=timeout,
        body="image",
    )
    declared = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    sniffed = sniff_image_type(response.content)
    if declared.startswith("image/"):
        content_type = declared
    elif sniffed is not None:
        content_type = sniffed
    else:
        raise ParseFailure(
            f"expected an image from {url}, got {declared or 'no content type'}",
            status_code=response.status_code,
        )
    return UpstreamImage(
        content=response.content,
        content_type=content_type,
        url=response.url,
        elapsed_ms=response.elapsed_ms,
        upstream_cached=response.headers.get("X-Cache", "").upper().startswith("HIT"),
    )
