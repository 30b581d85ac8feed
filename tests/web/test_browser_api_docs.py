"""`/docs` in a real Chromium with every request off the server refused, as with no network."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Server

pytestmark = pytest.mark.browser


async def test_docs_render_with_no_network(page: Any, server: Server) -> None:
    refused: list[str] = []

    async def same_origin_only(route: Any) -> None:
        if route.request.url.startswith(server.url):
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort()

    await page.route("**/*", same_origin_only)
    await page.goto("/docs")
    title = page.locator(".swagger-ui .info .title")
    # Swagger UI parses its 1.4 MB bundle, then renders the whole document (~170 KB): seconds on
    # a loaded machine, where the default 10 s wait ran out.
    await title.wait_for(timeout=60_000)
    assert "Kurobara" in await title.inner_text()
    await page.locator(".opblock-tag", has_text="auth").first.wait_for()
    assert refused == []
