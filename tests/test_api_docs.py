"""`/docs` with no network: the page loads Swagger UI only from the app itself."""

from __future__ import annotations

import re

import httpx


async def test_docs_use_only_same_origin_assets(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "https://" not in page.text
    assert "http://" not in page.text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert {url.rsplit(".", 1)[-1] for url in assets} >= {"js", "css"}
    for url in assets:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
    # The OpenAPI document the page loads, and Swagger UI's OAuth2 redirect page.
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/docs/oauth2-redirect")).status_code == 200
