"""The Providers dashboard over HTTP (both backends): who may see it, what a row shows, who gets
the admin controls, and the server-drawn sparkline as a pure function."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from kurobara.web.dashboard import format_percent, relative_time, sparkline_svg
from tests.factories import UserFactory
from tests.web.conftest import FakeSites
from tests.web.helpers import web_login

API = "/api/v1/providers"


@pytest.fixture
def settings_overrides(fake_sites: FakeSites) -> dict[str, object]:
    # Generous: no test here waits a timeout out, and a healthy probe of a fake site (four
    # requests) has taken over 3 s on a loaded CI machine, which left its row "unknown".
    return {"providers_file": fake_sites.providers_file, "check_timeout": 20.0}


def row_of(html: str, provider_id: str) -> str:
    found = re.search(
        rf'<tr class="provider-row[^"]*"\s+id="provider-{provider_id}".*?</tr>', html, re.S
    )
    assert found, f"no row for {provider_id}"
    return found.group(0)


async def test_the_page_requires_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/providers")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/providers"


async def test_rows_show_status_in_the_seed_colours(
    client: httpx.AsyncClient, users: UserFactory, fake_sites: FakeSites
) -> None:
    alice = await users.alice()
    await users.bob()
    fake_sites.site("madara").set_fault("down")
    # One failure is enough to be down here, so the test needs a single check.
    patched = await client.patch(
        f"{API}/fake-madara/status", json={"max_consecutive_failures": 1}, headers=alice.headers
    )
    assert patched.status_code == 200
    for provider_id in ("fake-mangadex", "fake-madara", "fake-mangathemesia"):
        tested = await client.post(f"{API}/{provider_id}/test", headers=alice.headers)
        assert tested.status_code == 200
    disabled = await client.patch(
        f"{API}/fake-html/status", json={"is_enabled": False}, headers=alice.headers
    )
    assert disabled.status_code == 200

    await web_login(client, "bob")
    page = await client.get("/providers")
    assert page.status_code == 200
    html = page.text

    up = row_of(html, "fake-mangadex")
    assert 'data-status="active"' in up
    assert "row-active" in up
    assert 'class="badge status status-active"' in up
    assert ">Up</span>" in up
    assert '<span class="ok" title="' in up  # a heartbeat tick for the check
    assert re.search(r"\d+ ms</td>", up)
    assert re.search(r'<time data-field="last-check" datetime="[^"]+" title="[^"]+ UTC">', up)
    assert '<svg class="sparkline"' in up

    down = row_of(html, "fake-madara")
    assert 'data-status="down"' in down
    assert "status-down" in down
    assert ">Down</span>" in down
    assert '<span class="fail" title="' in down
    assert 'class="error-kind"' in down
    # In words, with the raw text kept in a <details> (issue 16 item 6).
    assert "Could not connect to the site: nothing answered at its address" in down
    assert (
        '<details class="error-details"><summary>Details</summary><code>connection failed:' in down
    )

    gray = row_of(html, "fake-html")
    assert "is-disabled" in gray
    assert "status-disabled" in gray
    assert ">Disabled</span>" in gray
    assert 'data-action="test"' in gray
    assert "disabled" in gray.split('data-action="test"')[1][:60]

    # The summary counts what the rows show, and the banner names the outage.
    assert re.search(r'data-count="active">2<', html)
    assert re.search(r'data-count="down">1<', html)
    assert re.search(r'data-count="disabled">1<', html)
    assert "1 of 3 providers down" in html
    assert 'href="/providers" aria-current="page"' in html


async def test_admin_controls_only_for_admins(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    await users.alice()  # the first registered user is the admin
    bob = await users.bob()

    await web_login(client, "alice")
    admin_page = (await client.get("/providers")).text
    assert admin_page.count('data-action="toggle"') == 4  # one per fake site
    assert admin_page.count('class="manage-form"') == 4
    assert 'name="max_consecutive_failures"' in admin_page
    assert 'data-action="test"' in admin_page

    client.cookies.clear()
    await web_login(client, "bob")
    user_page = (await client.get("/providers")).text
    assert 'data-action="test"' in user_page
    for control in ('data-action="toggle"', "manage-form", "max_consecutive_failures", "manage-"):
        assert control not in user_page
    # The check-interval selector is every user's, with the seed's six choices.
    options = re.findall(r'<option value="(\d+)"', user_page)
    assert options == ["30", "60", "120", "1440", "10080", "43200"]
    assert re.search(r'<option value="60" selected>', user_page)

    # And the server refuses what the page does not offer.
    refused = await client.patch(
        f"{API}/fake-html/status", json={"is_enabled": False}, headers=bob.headers
    )
    assert refused.status_code == 403


NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ago", "expected"),
    [
        (None, "never"),
        (timedelta(seconds=3), "just now"),
        (timedelta(seconds=42), "42 s ago"),
        (timedelta(minutes=3, seconds=20), "3 min ago"),
        (timedelta(hours=5), "5 h ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=9), "9 days ago"),
        (-timedelta(seconds=30), "just now"),  # a replica's clock slightly ahead
    ],
)
def test_relative_time(ago: timedelta | None, expected: str) -> None:
    assert relative_time(None if ago is None else NOW - ago, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "—"), (100.0, "100 %"), (99.999, "99.99 %"), (97.5, "97.5 %"), (0.0, "0 %")],
)
def test_format_percent_never_rounds_up_to_perfect(value: float | None, expected: str) -> None:
    assert format_percent(value) == expected


def _path(svg: str) -> str:
    found = re.search(r'<path d="([^"]*)"', svg)
    return found.group(1) if found else ""


@pytest.mark.parametrize(
    ("values", "path", "label"),
    [
        ([], "", "Response time: no data"),
        ([None, None], "", "Response time: no data"),
        ([100], "M2.0 14.0", "1 checks, 100 ms to 100 ms"),
        ([50, 50, 50], "M2.0 14.0 L60.0 14.0 L118.0 14.0", "3 checks"),
        # slowest on the top edge, fastest on the bottom edge
        ([100, 300], "M2.0 26.0 L118.0 2.0", "100 ms to 300 ms"),
        ([300, 200, 100], "M2.0 2.0 L60.0 14.0 L118.0 26.0", "3 checks"),
        # a failed check breaks the line instead of drawing a fake fast answer
        ([100, None, 300], "M2.0 26.0 M118.0 2.0", "2 checks, 100 ms to 300 ms"),
        ([100, 200, None, 200, 1500], "M2.0 26.0 L31.0 24.3 M89.0 24.3 L118.0 2.0", "1.50 s"),
    ],
)
def test_sparkline_svg(values: list[int | None], path: str, label: str) -> None:
    svg = str(sparkline_svg(values))
    assert svg.startswith('<svg class="sparkline" viewBox="0 0 120 28"')
    assert svg.endswith("</svg>")
    assert 'role="img"' in svg
    assert label in svg
    assert _path(svg) == path
    if path:
        assert "sparkline-end" in svg
    else:
        assert "sparkline-empty" in svg


def test_sparkline_right_aligns_a_short_history_among_its_slots() -> None:
    # Two values among five positions take the last two, under the newest heartbeat ticks.
    svg = str(sparkline_svg([100, 300], slots=5))
    assert _path(svg) == "M89.0 26.0 L118.0 2.0"


def test_sparkline_escapes_its_label() -> None:
    svg = str(sparkline_svg([1, 2], label='<b>"x"</b>'))
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg
