"""Liveness and readiness probes."""

from __future__ import annotations

import httpx

from kurobara.app import create_app
from kurobara.config import Settings


async def test_healthz_answers_without_auth(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readyz_reports_the_database(client: httpx.AsyncClient, db_url: str) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == db_url.split("+")[0]


async def test_a_lone_surrogate_in_a_body_is_a_422_not_a_500(client: httpx.AsyncClient) -> None:
    body = '{"username": "bob", "email": "bob@example.org", "password": "\\ud800\\ud800pass"}'
    response = await client.post(
        "/api/v1/auth/register", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"]


async def test_readyz_reports_redis(
    client: httpx.AsyncClient, settings: Settings, redis_url: str
) -> None:
    assert (await client.get("/readyz")).json()["redis"] == "not configured"
    app = create_app(settings.model_copy(update={"redis_url": redis_url}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://k.test") as other:
            body = (await other.get("/readyz")).json()
    assert body["redis"] == "ok"
    assert body["status"] == "ok"
