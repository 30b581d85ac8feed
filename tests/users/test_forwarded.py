"""Who the client is: X-Forwarded-For counts only from a configured proxy, so a client cannot
pick a fresh login-throttle bucket per request by writing the header itself."""

from __future__ import annotations

import httpx

from kurobara.app import create_app
from kurobara.config import Settings
from tests import test_serve
from tests.conftest import TLS
from tests.factories import UserFactory

served = test_serve.served
BAD = {"username": "bob", "password": "wrong-password-1"}


def test_served_instance_ignores_forwarded_for_from_loopback_by_default(served: str) -> None:
    with httpx.Client(base_url=served, timeout=30, verify=TLS) as client:
        response = client.post(
            "/api/v1/auth/register",
            json={"username": "bob", "email": "bob@example.org", "password": "long-enough-1"},
        )
        assert response.status_code == 201
        codes = [
            client.post(
                "/api/v1/auth/login", data=BAD, headers={"X-Forwarded-For": f"203.0.113.{i}"}
            ).status_code
            for i in range(6)
        ]
    assert codes == [401] * 5 + [429]


async def _codes(settings: Settings, peer: str) -> list[int]:
    app = create_app(settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://k.test") as client:
            await UserFactory(client).register("bob")
            return [
                (
                    await client.post(
                        "/api/v1/auth/login",
                        data=BAD,
                        headers={"X-Forwarded-For": f"203.0.113.{i}"},
                    )
                ).status_code
                for i in range(6)
            ]


async def test_a_trusted_proxy_names_the_client(settings: Settings) -> None:
    assert await _codes(settings, "127.0.0.1") == [401] * 6  # six clients, one guess each


async def test_an_untrusted_peer_cannot_name_the_client(settings: Settings) -> None:
    assert await _codes(settings, "192.0.2.7") == [401] * 5 + [429]
