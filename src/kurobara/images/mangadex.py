"""MangaDex@Home as its documentation asks a client to use it: page images come from a node
whose base URL the at-home endpoint hands out for a chapter and which stops working after a
while, so the proxy asks again after ``NODE_MAX_AGE`` or as soon as a node answers 403/404;
every fetch from a node (not from MangaDex's own hosts) is reported to the report endpoint
with its outcome, size, duration and whether the node had it cached.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from kurobara.images.upstream import UpstreamImage, fetch_image
from kurobara.providers.errors import ProviderError
from kurobara.providers.http import HttpClient
from kurobara.providers.mangadex import MangaDexProvider

logger = logging.getLogger(__name__)

NODE_MAX_AGE = 300.0  # seconds: MangaDex says to re-ask well within a base URL's ~15 minutes
REPORT_TIMEOUT = 5.0
_QUALITIES = frozenset({"data", "data-saver"})
_REFUSALS = frozenset({403, 404})


def node_path(url: str) -> str | None:
    """``data/<hash>/<file>`` (or ``data-saver/…``) of a page URL, whatever node it names."""
    segments = urlsplit(url).path.split("/")
    if len(segments) >= 4 and segments[-3] in _QUALITIES and segments[-2] and segments[-1]:
        return "/".join(segments[-3:])
    return None


def is_mangadex_host(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == "mangadex.org" or host.endswith(".mangadex.org")


class AtHomeNodes:
    """The node base URL per chapter, asked for again when old or refused."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._bases: dict[tuple[str, str], tuple[str, float]] = {}

    async def base_url(self, provider: MangaDexProvider, chapter: str, *, fresh: bool) -> str:
        key = (provider.id, chapter)
        known = self._bases.get(key)
        if not fresh and known is not None and self.clock() - known[1] < NODE_MAX_AGE:
            return known[0]
        base = await provider.at_home_server(chapter)
        self._bases[key] = (base, self.clock())
        return base

    async def fetch_page(
        self, http: HttpClient, provider: MangaDexProvider, url: str, *, chapter: str
    ) -> UpstreamImage:
        """A page from the chapter's current node, re-asking for a node once on a refusal."""
        path = node_path(url)
        if path is None:
            return await fetch_image(http, provider, url)
        for fresh in (False, True):
            node_url = f"{(await self.base_url(provider, chapter, fresh=fresh)).rstrip('/')}/{path}"
            started = time.perf_counter()
            try:
                image = await fetch_image(http, provider, node_url)
            except ProviderError as exc:
                await self.report(http, provider, node_url, None, started)
                if fresh or exc.status_code not in _REFUSALS:
                    raise
                logger.info("mangadex node refused provider=%s status=%s", provider.id,
                            exc.status_code)  # fmt: skip
                continue
            await self.report(http, provider, node_url, image, started)
            return image
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def report(
        self,
        http: HttpClient,
        provider: MangaDexProvider,
        url: str,
        image: UpstreamImage | None,
        started: float,
    ) -> None:
        """Tell MangaDex@Home how a node fetch went; a report that fails is only logged."""
        if is_mangadex_host(url):
            return
        body = {
            "url": url,
            "success": image is not None,
            "bytes": image.size if image is not None else 0,
            "duration": int((time.perf_counter() - started) * 1000),
            "cached": image.upstream_cached if image is not None else False,
        }
        try:
            await http.post(
                provider.id, provider.params.report_url, json=body, timeout=REPORT_TIMEOUT
            )
        except ProviderError as exc:
            logger.info("mangadex report failed provider=%s kind=%s", provider.id, exc.kind)
