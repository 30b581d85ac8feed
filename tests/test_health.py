"""Liveness and readiness probes."""

from __future__ import annotations

import httpx


async def test_healthz_answers_without_auth(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readyz_reports_the_database(client: httpx.AsyncClient, db_url: str) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == db_url.split("+")[0]
