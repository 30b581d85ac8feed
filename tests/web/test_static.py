"""Static files: served locally with caching headers; pages link them with a content hash."""

from __future__ import annotations

import re

import httpx
import pytest


async def test_pages_link_versioned_assets_that_cache_for_a_year(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/login")
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert {link.split("?")[0] for link in links} >= {
        "/static/css/kurobara.css",
        "/static/js/main.js",
        "/static/js/theme-init.js",
        "/static/img/logo.svg",
    }
    for link in links:
        assert "?v=" in link
        response = await client.get(link)
        assert response.status_code == 200, link
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/js/api.js", "javascript"),
        ("/static/js/theme.js", "javascript"),
        ("/static/css/kurobara.css", "text/css"),
        ("/static/img/logo.svg", "image/svg+xml"),
    ],
)
async def test_unversioned_assets_revalidate_soon(
    client: httpx.AsyncClient, path: str, content_type: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert content_type in response.headers["content-type"]
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["etag"]


async def test_pages_load_nothing_from_other_origins(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    assert not re.search(r'(?:href|src)="(?:https?:)?//', page.text)


async def test_missing_static_file_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/static/js/nope.js")).status_code == 404


async def test_favicon_ico_leads_to_the_svg_logo(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/static/img/logo.svg?v=")
