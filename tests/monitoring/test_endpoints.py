"""Each /providers endpoint: who may call it, what bad input gets, and which route answers."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.factories import UserFactory
from tests.monitoring.helpers import status_of
from tests.monitoring.sites import PingSite

ENDPOINTS = [
    ("GET", "/api/v1/providers/", None),
    ("GET", "/api/v1/providers/status", None),
    ("GET", "/api/v1/providers/statistics", None),
    ("GET", "/api/v1/providers/site0", None),
    ("GET", "/api/v1/providers/site0/history", None),
    ("PATCH", "/api/v1/providers/site0/status", {"is_enabled": False}),
    ("POST", "/api/v1/providers/site0/test", None),
    ("PATCH", "/api/v1/providers/check-interval", {"interval": 30}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_it_requires_a_token(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, object] | None
) -> None:
    response = await client.request(method, path, json=body)
    assert response.status_code == 401
    bad = await client.request(method, path, json=body, headers={"Authorization": "Bearer x"})
    assert bad.status_code == 401


async def test_lists_have_the_seed_fields(client: httpx.AsyncClient, users: UserFactory) -> None:
    bob = await users.bob()
    seed = {
        "provider_id", "provider_name", "provider_url", "status", "last_check", "response_time",
        "consecutive_failures", "total_checks", "successful_checks", "uptime_percentage",
        "is_enabled", "check_interval", "max_consecutive_failures", "error_message", "error_kind",
    }  # fmt: skip
    statuses = (await client.get("/api/v1/providers/status", headers=bob.headers)).json()
    assert [s["provider_id"] for s in statuses] == ["site0", "site1"]
    assert seed <= set(statuses[0])
    listed = (await client.get("/api/v1/providers/", headers=bob.headers)).json()
    extra = {"is_healthy", "effective_check_interval", "uptime_24h", "uptime_7d", "uptime_30d"}
    assert seed | extra <= set(listed[0])
    assert listed[0]["status"] == "unknown"
    assert listed[0]["check_interval"] == listed[0]["effective_check_interval"] == 60


async def test_regular_user_cannot_change_provider_settings(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    response = await client.patch(
        "/api/v1/providers/site0/status", json={"is_enabled": False}, headers=bob.headers
    )
    assert response.status_code == 403
    assert (await status_of(client, bob.headers, "site0"))["is_enabled"] is True


async def test_admin_changes_provider_settings(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    response = await client.patch(
        "/api/v1/providers/site0/status",
        json={"is_enabled": False, "check_interval": 15, "max_consecutive_failures": 5},
        headers=alice.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["is_enabled"] is False
    assert body["check_interval"] == body["check_interval_override"] == 15
    assert body["max_consecutive_failures"] == 5
    cleared = await client.patch(
        "/api/v1/providers/site0/status", json={"check_interval": None}, headers=alice.headers
    )
    assert cleared.json()["check_interval_override"] is None
    assert cleared.json()["check_interval"] == 60
    assert cleared.json()["max_consecutive_failures"] == 5


BAD_SETTINGS = [
    {"check_interval": 0},
    {"check_interval": 43201},
    {"max_consecutive_failures": 0},
    {"max_consecutive_failures": 101},
    {"is_enabled": "perhaps"},
    {"is_enabled": None},
    {"color": "red"},
    {},
]


async def test_admin_settings_out_of_range_are_422(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    for body in BAD_SETTINGS:
        response = await client.patch(
            "/api/v1/providers/site0/status", json=body, headers=alice.headers
        )
        assert response.status_code == 422, body


async def test_admin_interval_bounds_are_inclusive(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice = await users.alice()
    for value in (1, 43200):
        response = await client.patch(
            "/api/v1/providers/site0/status", json={"check_interval": value}, headers=alice.headers
        )
        assert response.json()["check_interval"] == value


UNKNOWN = [
    ("GET", "/api/v1/providers/nope", None),
    ("GET", "/api/v1/providers/nope/history", None),
    ("PATCH", "/api/v1/providers/nope/status", {"is_enabled": False}),
    ("POST", "/api/v1/providers/nope/test", None),
]


async def test_unknown_provider_is_404(client: httpx.AsyncClient, users: UserFactory) -> None:
    alice = await users.alice()
    for method, path, body in UNKNOWN:
        response = await client.request(method, path, json=body, headers=alice.headers)
        assert response.status_code == 404, path
        assert "nope" in response.json()["detail"]


async def test_static_paths_are_not_captured_by_provider_id(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    assert isinstance((await client.get("/api/v1/providers/status", headers=bob.headers)).json(),
                      list)  # fmt: skip
    stats = await client.get("/api/v1/providers/statistics", headers=bob.headers)
    assert "by_status" in stats.json()
    interval = await client.patch(
        "/api/v1/providers/check-interval", json={"interval": 120}, headers=bob.headers
    )
    assert interval.status_code == 200


async def test_user_sets_an_allowed_interval(client: httpx.AsyncClient, users: UserFactory) -> None:
    bob = await users.bob()
    for interval in (30, 60, 120, 1440, 10080, 43200):
        response = await client.patch(
            "/api/v1/providers/check-interval", json={"interval": interval}, headers=bob.headers
        )
        assert response.status_code == 200
        assert response.json()["interval"] == interval
        me = await client.get("/api/v1/users/me", headers=bob.headers)
        assert me.json()["provider_check_interval"] == interval


BAD_INTERVALS = [{"interval": 45}, {"interval": 0}, {"interval": "sixty"}, {},
                 {"interval": 60, "extra": 1}]  # fmt: skip


async def test_user_interval_outside_the_list_is_422(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    for body in BAD_INTERVALS:
        response = await client.patch(
            "/api/v1/providers/check-interval", json=body, headers=bob.headers
        )
        assert response.status_code == 422, body


async def test_history_window_must_be_known(client: httpx.AsyncClient, users: UserFactory) -> None:
    bob = await users.bob()
    for window in ("1h", "week", ""):
        response = await client.get(
            "/api/v1/providers/site0/history", params={"window": window}, headers=bob.headers
        )
        assert response.status_code == 422, window
    for window in ("24h", "7d", "30d"):
        response = await client.get(
            "/api/v1/providers/site0/history", params={"window": window}, headers=bob.headers
        )
        assert response.json()["window"] == window


async def test_any_user_runs_a_check_and_it_is_recorded(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    response = await client.post("/api/v1/providers/site0/test", headers=bob.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"provider_id", "is_success", "response_time", "error_message",
                         "error_kind", "timestamp"}  # fmt: skip
    assert body["is_success"] is True
    assert body["provider_id"] == "site0"
    assert (await status_of(client, bob.headers, "site0"))["total_checks"] == 1
    history = await client.get("/api/v1/providers/site0/history", headers=bob.headers)
    assert [c["trigger"] for c in history.json()["checks"]] == ["manual"]


async def test_failed_manual_check_reports_its_error_kind(
    client: httpx.AsyncClient, users: UserFactory, site: PingSite
) -> None:
    bob = await users.bob()
    site.set_fault("error")
    body = (await client.post("/api/v1/providers/site0/test", headers=bob.headers)).json()
    assert body["is_success"] is False
    assert body["error_kind"] == "http_status"
    assert body["error_message"].startswith("HTTP 500")


class TestSingleFlight:
    @pytest.fixture
    def monitor_settings(self) -> dict[str, object]:
        return {"check_timeout": 5.0}

    async def test_concurrent_tests_of_one_provider_share_one_check(
        self, client: httpx.AsyncClient, users: UserFactory, site: PingSite
    ) -> None:
        bob = await users.bob()
        alice = await users.alice()  # an admin: not rate-limited
        # Long enough that all five presses arrive while it runs, even on a loaded machine.
        site.slow_seconds = 2.0
        site.set_fault("slow")
        before = site.requests
        responses = await asyncio.gather(
            *(client.post("/api/v1/providers/site0/test", headers=alice.headers) for _ in range(5))
        )
        assert {r.status_code for r in responses} == {200}
        assert len({r.json()["timestamp"] for r in responses}) == 1
        assert site.requests - before == 1
        assert (await status_of(client, bob.headers, "site0"))["total_checks"] == 1
