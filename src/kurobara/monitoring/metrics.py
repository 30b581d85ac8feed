"""Prometheus exposition of provider health, built per scrape from the database, so that every
replica reports the same numbers (the counters live in ``provider_status``, not in memory)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kurobara.monitoring import rules
from kurobara.monitoring.notifications import NotificationHealth
from kurobara.monitoring.service import ProviderView

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _ProviderCollector(Collector):
    def __init__(self, views: Sequence[ProviderView]) -> None:
        self.views = views

    def collect(self) -> Iterator[Metric]:
        labels = ["provider"]
        up = GaugeMetricFamily(
            "kurobara_provider_up", "1 when the provider is healthy, else 0", labels=labels
        )
        status = GaugeMetricFamily(
            "kurobara_provider_status",
            "1 for the provider's current status",
            labels=[*labels, "status"],
        )
        enabled = GaugeMetricFamily(
            "kurobara_provider_enabled", "1 when monitoring is enabled", labels=labels
        )
        response = GaugeMetricFamily(
            "kurobara_provider_response_time_seconds",
            "Response time of the last successful check",
            labels=labels,
        )
        failures = GaugeMetricFamily(
            "kurobara_provider_consecutive_failures", "Failed checks in a row", labels=labels
        )
        checks = CounterMetricFamily(
            "kurobara_provider_checks", "Completed checks by result", labels=[*labels, "result"]
        )
        uptime = GaugeMetricFamily(
            "kurobara_provider_uptime_ratio",
            "Share of successful checks over the window (from hourly rollups)",
            labels=[*labels, "window"],
        )
        last = GaugeMetricFamily(
            "kurobara_provider_last_check_timestamp_seconds",
            "Unix time of the last completed check",
            labels=labels,
        )
        for view in self.views:
            pid = [view.provider_id]
            up.add_metric(pid, 1.0 if view.is_healthy else 0.0)
            for name in rules.STATUSES:
                status.add_metric([*pid, name], 1.0 if view.status == name else 0.0)
            enabled.add_metric(pid, 1.0 if view.is_enabled else 0.0)
            if view.response_time is not None:
                response.add_metric(pid, view.response_time / 1000)
            failures.add_metric(pid, float(view.consecutive_failures))
            checks.add_metric([*pid, "success"], float(view.successful_checks))
            checks.add_metric([*pid, "failure"], float(view.total_checks - view.successful_checks))
            for window, value in view.uptime.items():
                if value is not None:
                    uptime.add_metric([*pid, window], value / 100)
            if view.last_check is not None:
                last.add_metric(pid, view.last_check.timestamp())
        yield from (up, status, enabled, response, failures, checks, uptime, last)


class _NotificationCollector(Collector):
    def __init__(self, health: NotificationHealth) -> None:
        self.health = health

    def collect(self) -> Iterator[Metric]:
        health = self.health
        yield GaugeMetricFamily(
            "kurobara_notifications_pending", "Down/up messages not yet delivered", health.pending
        )
        yield GaugeMetricFamily(
            "kurobara_notifications_failing",
            "Pending messages whose last attempt failed (being retried)",
            health.failing,
        )
        yield GaugeMetricFamily(
            "kurobara_notifications_given_up",
            "Messages no channel accepted within the retry period",
            health.given_up,
        )
        if health.last_error_at is not None:
            yield GaugeMetricFamily(
                "kurobara_notification_last_failure_timestamp_seconds",
                "Unix time of the last failed attempt of an undelivered message",
                health.last_error_at.timestamp(),
            )


def exposition(
    views: Sequence[ProviderView], notifications: NotificationHealth | None = None
) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProviderCollector(views))
    if notifications is not None:
        registry.register(_NotificationCollector(notifications))
    return generate_latest(registry)
