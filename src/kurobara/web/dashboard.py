"""The Providers dashboard: which providers work right now, how fast, how reliably, and (for
admins) the controls to tune their checks.

The first view is rendered here from the monitoring service; ``static/js/providers.js`` keeps it
live from ``/api/v1/providers/events`` and drives the buttons through the JSON API. The
sparkline is drawn by the server (``sparkline_svg``) so the page needs no charting script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from kurobara.db.deps import SessionDep
from kurobara.monitoring import notifications, rules
from kurobara.monitoring import service as monitoring
from kurobara.monitoring.models import ProviderCheck
from kurobara.providers.wording import in_words
from kurobara.web.forms import INTERVAL_LABELS
from kurobara.web.pages import render
from kurobara.web.session import SignedInUser

router = APIRouter(include_in_schema=False)

# Ticks in a heartbeat bar (and points in a sparkline).
HEARTBEAT_CHECKS = rules.RECENT_CHECKS
DISABLED = "disabled"
STATUS_LABELS = {
    "active": "Up",
    "down": "Down",
    "unknown": "Unknown",
    "testing": "Testing",
    DISABLED: "Disabled",
}


def format_ms(ms: int | None) -> str:
    if ms is None:
        return "—"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def format_percent(value: float | None) -> str:
    if value is None:
        return "—"
    # 99.95 must not round up to a "100 %" that promises no failure at all.
    shown = int(value * 100) / 100
    return f"{shown:.2f}".rstrip("0").rstrip(".") + " %"


def uptime_class(value: float | None) -> str:
    if value is None:
        return "uptime-none"
    if value >= 99:
        return "uptime-good"
    return "uptime-fair" if value >= 95 else "uptime-bad"


def format_interval(minutes: int) -> str:
    if minutes in INTERVAL_LABELS:
        return INTERVAL_LABELS[minutes]
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        return f"{minutes // 60} hours"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def relative_time(moment: datetime | None, now: datetime) -> str:
    """Text such as "3 min ago" as the page first shows it; providers.js keeps it current with
    the same steps."""
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 10:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''} ago"


def absolute_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def sparkline_svg(
    values: Sequence[int | None],
    *,
    width: int = rules.SPARKLINE_WIDTH,
    height: int = rules.SPARKLINE_HEIGHT,
    label: str = "Response time",
    slots: int | None = None,
) -> Markup:
    """An inline SVG line of response times, oldest first, drawn from ``rules.sparkline_shape``
    (see there for the scaling; providers.js redraws live rows from the same shape)."""
    pad = rules.SPARKLINE_PAD
    shape = rules.sparkline_shape(values, width=width, height=height, slots=slots)
    parts = [
        f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" preserveAspectRatio="none"'
    ]
    if not shape.count:
        parts.append(f' aria-label="{escape(label)}: no data"><title>{escape(label)}: no data')
        parts.append(f'</title><line class="sparkline-empty" x1="{pad}" y1="{height / 2}" ')
        parts.append(f'x2="{width - pad}" y2="{height / 2}"/></svg>')
        return Markup("".join(parts))
    summary = sparkline_summary(shape, label)
    parts.append(f' aria-label="{escape(summary)}"><title>{escape(summary)}</title>')
    parts.append(f'<path d="{shape.line}"/>')
    if shape.end is not None:
        # A zero-length round-capped stroke rather than a circle: the SVG stretches with its
        # box (preserveAspectRatio="none"), and a non-scaling stroke stays a round dot.
        parts.append(f'<path class="sparkline-end" d="{shape.end}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline_summary(shape: rules.SparklineShape, label: str = "Response time") -> str:
    return f"{label}: {shape.count} checks, {format_ms(shape.low)} to {format_ms(shape.high)}"


@dataclass(frozen=True)
class Beat:
    """One tick of a heartbeat bar."""

    ok: bool
    title: str
    at: datetime


def beat_title(check: ProviderCheck) -> str:
    when = absolute_time(check.checked_at)
    if check.ok:
        return f"{when} · up · {format_ms(check.response_time)}"
    # In words, as the row's last error is; the raw text is in that cell's details.
    words = in_words(check.error_kind, check.error_message, check.http_status) or "error"
    stage = f" (at {check.stage})" if check.stage else ""
    return f"{when} · down · {words}{stage}"


@dataclass(frozen=True)
class ProviderRow:
    """A provider as its dashboard row shows it: the service's view and what is drawn from it."""

    view: monitoring.ProviderView
    status: str  # the seed's status, or "disabled" (gray) for a provider an admin switched off
    beats: list[Beat]
    sparkline: Markup

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def provider_rows(
    views: Sequence[monitoring.ProviderView], recent: dict[str, list[ProviderCheck]]
) -> list[ProviderRow]:
    rows = []
    for view in views:
        checks = recent.get(view.provider_id, [])
        rows.append(
            ProviderRow(
                view=view,
                status=view.status if view.is_enabled else DISABLED,
                beats=[Beat(ok=c.ok, title=beat_title(c), at=c.checked_at) for c in checks],
                sparkline=sparkline_svg(
                    [c.response_time if c.ok else None for c in checks], slots=HEARTBEAT_CHECKS
                ),
            )
        )
    return rows


def status_counts(rows: Sequence[ProviderRow]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_LABELS, 0)
    for row in rows:
        counts[row.status] += 1
    return counts


@router.get("/providers", name="web:providers")
async def providers_page(request: Request, user: SignedInUser, db_session: SessionDep) -> Response:
    state = request.app.state
    now = state.clock.now()
    views = await monitoring.list_providers(
        db_session=db_session, registry=state.registry, settings=state.settings, now=now
    )
    stats = await monitoring.statistics(
        db_session=db_session,
        registry=state.registry,
        settings=state.settings,
        now=now,
        views=views,
    )
    recent = await monitoring.recent_checks(
        db_session=db_session,
        provider_ids=[view.provider_id for view in views],
        limit=HEARTBEAT_CHECKS,
    )
    rows = provider_rows(views, recent)
    # Admins see when down/up messages fail to go out (they are retried for a day).
    notify_health = (
        await notifications.notification_health(db_session=db_session)
        if user.is_superuser
        else None
    )
    return render(
        request,
        "providers.html",
        user=user,
        rows=rows,
        notify_health=notify_health,
        counts=status_counts(rows),
        stats=stats,
        now=now,
        heartbeat_size=HEARTBEAT_CHECKS,
        intervals=INTERVAL_LABELS,
        status_labels=STATUS_LABELS,
        format_ms=format_ms,
        format_percent=format_percent,
        format_interval=format_interval,
        uptime_class=uptime_class,
        relative_time=relative_time,
        absolute_time=absolute_time,
    )
