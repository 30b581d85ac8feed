"""/metrics: Prometheus text format, and the bearer token when one is configured."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kurobara.monitoring.jobs import Monitor
from tests.monitoring.sites import PingSite


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_expose_provider_health(
    client: httpx.AsyncClient, monitor: Monitor, sites: list[PingSite]
) -> None:
    sites[1].set_fault("error")
    await monitor.step()
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    values = samples(response.text)
    assert values[("kurobara_provider_up", (("provider", "site0"),))] == 1
    assert values[("kurobara_provider_up", (("provider", "site1"),))] == 0
    ok = ("kurobara_provider_checks_total", (("provider", "site0"), ("result", "success")))
    failed = ("kurobara_provider_checks_total", (("provider", "site1"), ("result", "failure")))
    assert values[ok] == values[failed] == 1
    uptime = ("kurobara_provider_uptime_ratio", (("provider", "site1"), ("window", "24h")))
    assert values[uptime] == 0
    status = ("kurobara_provider_status", (("provider", "site0"), ("status", "active")))
    assert values[status] == 1
    assert ("kurobara_provider_response_time_seconds", (("provider", "site0"),)) in values


class TestToken:
    @pytest.fixture
    def monitor_settings(self) -> dict[str, object]:
        return {"metrics_token": "s3cret-scrape"}

    @pytest.mark.parametrize(
        ("headers", "code"),
        [
            ({}, 401),
            ({"Authorization": "Bearer wrong"}, 401),
            ({"Authorization": "s3cret-scrape"}, 401),
            ({"Authorization": "Bearer s3cret-scrape"}, 200),
        ],
    )
    async def test_metrics_require_the_configured_token(
        self, client: httpx.AsyncClient, headers: dict[str, str], code: int
    ) -> None:
        assert (await client.get("/metrics", headers=headers)).status_code == code
