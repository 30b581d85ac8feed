"""The Providers dashboard in a real Chromium against a served instance whose monitor checks the
fake sites: outages and recoveries arrive live, "Test now" reports inline, admins tune checks,
regular users get no admin controls (and the API refuses them anyway)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.web.conftest import PHONE, FakeSites, Screenshots, Server
from tests.web.test_browser_browse import api_token

pytestmark = pytest.mark.browser

LIVE_TIMEOUT_MS = 30_000


@pytest.fixture
def server_env(fake_sites: FakeSites) -> dict[str, str]:
    # A real monitor, tuned so that an outage is confirmed in seconds: three failures one second
    # apart, no jitter, and a timeout above the fake sites' 5 s "slow" fault.
    return fake_sites.env(
        KUROBARA_MONITOR_ENABLED="true",
        KUROBARA_RETRY_INTERVAL_SECONDS="1",
        KUROBARA_CHECK_JITTER_SECONDS="0",
        KUROBARA_DOWN_CHECK_INTERVAL="1",
        KUROBARA_CHECK_TIMEOUT="20",
    )


def expect(locator: Any) -> Any:
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(locator)


async def open_dashboard(page: Any, server: Server, username: str) -> None:
    server.register(username, PASSWORD)
    await page.goto("/providers")
    await page.wait_for_url("**/login?next=/providers")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url("**/providers")
    await expect(page.locator("[data-live-indicator]")).to_have_attribute("data-state", "live")
    # The live dot rings once when the stream opens (and at each event), never in a loop that
    # keeps the page repainting while it sits open.
    dot = page.locator("[data-live-indicator] .live-dot")
    await expect(dot).to_have_class(re.compile(r"\bis-pinged\b"))
    rings = await dot.evaluate(
        "d => [getComputedStyle(d).animationName, getComputedStyle(d, '::after')"
        ".animationIterationCount]"
    )
    assert rings == ["none", "1"]
    # Marks this document: a reload would lose it.
    await page.evaluate("window.__sameDocument = true")


async def api(page: Any, method: str, path: str, data: Any = None) -> Any:
    """The JSON API with this browser's cookies, as the page's own scripts call it."""
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    return await page.request.fetch(
        f"/api/v1{path}",
        method=method,
        data=data,
        headers={"X-CSRF-Token": cookies.get("kurobara_csrf", "")},
    )


def row(page: Any, provider_id: str) -> Any:
    return page.locator(f'tr.provider-row[data-provider-id="{provider_id}"]')


def press_test_now_until_down(client: Any, headers: dict[str, str], provider_id: str) -> None:
    """Press "Test now" until the tests and the monitor's quick retries confirm the outage."""
    for _ in range(10):
        response = client.post(f"/api/v1/providers/{provider_id}/test", headers=headers)
        assert response.status_code == 200, response.text
        status = client.get(f"/api/v1/providers/{provider_id}", headers=headers).json()
        if status["status"] == "down":
            return
    raise AssertionError(f"{provider_id} is not down: {status}")


async def assert_same_document(page: Any) -> None:
    assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"


async def test_outage_and_recovery_arrive_live_and_test_now_reports_inline(
    page: Any, server: Server, fake_sites: FakeSites, shots: Screenshots
) -> None:
    await open_dashboard(page, server, "alice")
    madara = row(page, "fake-madara")
    for provider_id in ("fake-mangadex", "fake-madara", "fake-html"):
        await expect(row(page, provider_id)).to_have_attribute(
            "data-status", "active", timeout=LIVE_TIMEOUT_MS
        )
    await expect(page.locator("[data-overall-text]")).to_have_text("All providers operational")
    await expect(page.locator("[data-overall-sub]")).to_contain_text("0 failed in the last 24 h")
    await shots("all-up")

    # The site goes away; one check (from another client) starts the failure streak and the
    # monitor's quick retries confirm the outage. The open page hears it all from the stream.
    fake_sites.site("madara").set_fault("down")
    started = await api(page, "POST", "/providers/fake-madara/test")
    assert started.ok
    await expect(madara).to_have_attribute("data-status", "down", timeout=LIVE_TIMEOUT_MS)
    await expect(madara.locator('[data-field="badge"]')).to_have_text("Down")
    await expect(madara.locator(".error-kind")).to_have_text("connect")
    # The OS's words become plain ones; the raw text is one click away (issue 16 item 6).
    await expect(madara.locator(".error-message")).to_have_text(
        "Could not connect to the site: nothing answered at its address"
    )
    raw = madara.locator("details.error-details")
    await expect(raw.locator("code")).not_to_be_visible()
    await raw.locator("summary").click()
    await expect(raw.locator("code")).to_contain_text("Connect call failed")
    assert await madara.locator(".heartbeat .fail").count() >= 3
    await expect(page.locator('[data-count="down"]')).to_have_text("1")
    await expect(page.locator("[data-overall-text]")).to_have_text("1 of 4 providers down")
    # The 24 h figures follow too: the page opened with none failed, and now shows failures,
    # read again from the statistics (issue 10, item 9: live numbers that stay true).
    await expect(page.locator("[data-overall-sub]")).to_contain_text(
        re.compile(r"\d+ checks, [1-9]\d* failed in the last 24 h"), timeout=LIVE_TIMEOUT_MS
    )
    await expect(page.locator("[data-average-uptime]")).not_to_have_text("100 %")
    await shots("madara-down")

    # It comes back: the next check (the monitor re-checks down providers every minute; here a
    # manual one from another client) turns the row green again.
    fake_sites.site("madara").set_fault("ok")
    recovered = await api(page, "POST", "/providers/fake-madara/test")
    assert recovered.ok
    await expect(madara).to_have_attribute("data-status", "active", timeout=LIVE_TIMEOUT_MS)
    await expect(madara.locator('[data-field="error"]')).to_have_text("—")
    await expect(page.locator("[data-overall-text]")).to_have_text("All providers operational")
    # The sparkline is redrawn from the stream too: it counts the same good checks as the bar.
    good = await madara.locator(".heartbeat .ok").count()
    assert good >= 1
    await expect(madara.locator("svg.sparkline")).to_have_attribute(
        "aria-label", re.compile(rf"^Response time: {good} checks, ")
    )
    await expect(madara.locator("svg.sparkline path.sparkline-end")).to_have_count(1)

    # "Test now" on a slow site: the row turns yellow while the check runs, then the result
    # shows inline.
    fake_sites.site("mangadex").set_fault("slow")
    mangadex = row(page, "fake-mangadex")
    button = mangadex.get_by_role("button", name="Test now")
    await button.click()
    await expect(mangadex).to_have_attribute("data-status", "testing")
    await expect(button).to_have_attribute("aria-busy", "true")
    await expect(mangadex.locator('[data-field="result"]')).to_have_text("Checking…")
    await shots("test-now-running")
    await expect(mangadex.locator('[data-field="result"]')).to_contain_text(
        "✓ Up", timeout=LIVE_TIMEOUT_MS
    )
    await expect(mangadex).to_have_attribute("data-status", "active")
    await expect(mangadex.locator('[data-field="last-check"]')).to_have_text("just now")

    fake_sites.site("mangadex").set_fault("error")
    await button.click()
    await expect(mangadex.locator('[data-field="result"]')).to_contain_text(
        "✗ The site has a problem of its own (HTTP 500)", timeout=LIVE_TIMEOUT_MS
    )
    # One failure is below the threshold of 3: the provider stays up, the error is shown.
    await expect(mangadex.locator(".error-kind")).to_contain_text("http_status")
    await shots("test-now-failed")
    await assert_same_document(page)


# With motion, so that open_dashboard's check of the live dot's single ring has teeth.
@pytest.mark.parametrize("reduced_motion", ["no-preference"])
async def test_an_outage_before_the_stream_opens_is_caught_up(
    page: Any, server: Server, fake_sites: FakeSites
) -> None:
    """The page is rendered, then its event stream opens: what changed in between is fetched
    when the stream opens, not left for the provider's next check (a minute later when down)."""
    await open_dashboard(page, server, "dora")
    headers = api_token(server, "dora")
    with server.api() as client:
        await expect(row(page, "fake-madara")).to_have_attribute(
            "data-status", "active", timeout=LIVE_TIMEOUT_MS
        )
        opened = asyncio.Event()

        async def hold(route: Any) -> None:
            await opened.wait()
            await route.continue_()

        await page.route("**/api/v1/providers/events", hold)
        await page.reload()
        await expect(row(page, "fake-madara")).to_have_attribute("data-status", "active")
        fake_sites.site("madara").set_fault("down")
        press_test_now_until_down(client, headers, "fake-madara")
        opened.set()
        await expect(page.locator("[data-live-indicator]")).to_have_attribute("data-state", "live")
        await expect(row(page, "fake-madara")).to_have_attribute("data-status", "down")


async def test_a_list_older_than_an_event_does_not_undo_it(
    page: Any, server: Server, fake_sites: FakeSites
) -> None:
    """The list the page fetches when its stream opens can come back after an event that is
    newer than it (a check finishing meanwhile): the row keeps what the event said."""
    await open_dashboard(page, server, "ruth")
    headers = api_token(server, "ruth")
    madara = row(page, "fake-madara")
    await expect(madara).to_have_attribute("data-status", "active", timeout=LIVE_TIMEOUT_MS)
    fetched = asyncio.Event()
    release = asyncio.Event()

    async def hold_stale(route: Any) -> None:
        stale = await route.fetch()  # read now: fake-madara is active
        fetched.set()
        await release.wait()
        await route.fulfill(response=stale)

    await page.route("**/api/v1/providers/", hold_stale)
    await page.reload()
    await asyncio.wait_for(fetched.wait(), LIVE_TIMEOUT_MS / 1000)
    # Every status the row takes from here on.
    await madara.evaluate(
        """row => {
          window.__statuses = [];
          new MutationObserver(() => window.__statuses.push(row.dataset.status))
            .observe(row, { attributes: true, attributeFilter: ["data-status"] });
        }"""
    )
    fake_sites.site("madara").set_fault("down")
    with server.api() as client:
        press_test_now_until_down(client, headers, "fake-madara")
    await expect(madara).to_have_attribute("data-status", "down")
    async with page.expect_response("**/api/v1/providers/") as answer:
        release.set()
    await (await answer.value).finished()
    await page.wait_for_timeout(500)  # the page applies the list as soon as it has parsed it
    statuses = await page.evaluate("window.__statuses")
    assert statuses[-1] == "down", statuses
    await expect(madara).to_have_attribute("data-status", "down")


async def test_admin_changes_interval_threshold_and_disables_a_provider(
    page: Any, server: Server, shots: Screenshots
) -> None:
    await open_dashboard(page, server, "alice")  # the first account is the admin
    html = row(page, "fake-html")
    await expect(html).to_have_attribute("data-status", "active", timeout=LIVE_TIMEOUT_MS)

    # Interval override and failure threshold, from the settings panel under the row.
    manage = html.get_by_role("button", name="Check settings for Fake Html")
    await manage.click()
    panel = page.locator("#manage-fake-html")
    await expect(panel).to_be_visible()
    await panel.get_by_label("Follow users' choice").uncheck()
    interval = panel.get_by_label("Check interval in minutes for Fake Html")
    await interval.fill("99999")
    await panel.get_by_role("button", name="Save").click()
    await expect(panel.locator('[data-field="manage-message"]')).to_contain_text("1 to 43200")
    await interval.fill("15")
    await panel.get_by_label("Failed checks in a row before Fake Html is down").fill("5")
    await panel.get_by_role("button", name="Save").click()
    await expect(panel.locator('[data-field="manage-message"]')).to_have_text(
        "Saved · checked every 15 minutes"
    )
    await expect(html.locator('[data-field="interval-text"]')).to_have_text("15 minutes")
    await shots("interval-override")
    saved = await (await api(page, "GET", "/providers/fake-html")).json()
    assert saved["check_interval_override"] == 15
    assert saved["max_consecutive_failures"] == 5

    # Disable: the row grays out and cannot be tested; enable: it is checked again at once.
    switch = html.get_by_role("switch", name="Monitor Fake Html")
    await switch.click()
    await expect(html).to_have_attribute("data-status", "disabled")
    await expect(html).to_have_class(re.compile(r"\bis-disabled\b"))
    await expect(html.get_by_role("button", name="Test now")).to_be_disabled()
    await expect(page.locator('[data-count="disabled"]')).to_have_text("1")
    await shots("disabled")
    assert (await (await api(page, "GET", "/providers/fake-html")).json())["is_enabled"] is False
    await switch.click()
    await expect(switch).to_have_attribute("aria-checked", "true")
    await expect(html).to_have_attribute("data-status", "active", timeout=LIVE_TIMEOUT_MS)
    await expect(html.get_by_role("button", name="Test now")).to_be_enabled()

    # Back to following users, and the user's own interval choice from the toolbar.
    await panel.get_by_label("Follow users' choice").check()
    await panel.get_by_role("button", name="Save").click()
    await expect(html.locator('[data-field="interval-text"]')).to_have_text("1 hour")
    await page.get_by_label("Check providers every").select_option("30")
    await expect(page.locator("[data-interval-message]")).to_have_text(
        "Saved · providers are checked every 30 minutes"
    )
    await expect(html.locator('[data-field="interval-text"]')).to_have_text("30 minutes")
    me = await (await api(page, "GET", "/users/me")).json()
    assert me["provider_check_interval"] == 30
    await shots("after-admin-changes")
    await assert_same_document(page)


@pytest.mark.parametrize(("viewport", "color_scheme"), [(PHONE, "dark")])
async def test_regular_user_gets_no_admin_controls_and_is_refused(
    page: Any, server: Server, shots: Screenshots
) -> None:
    server.register("alice", PASSWORD)  # the admin
    await open_dashboard(page, server, "bob")
    mangadex = row(page, "fake-mangadex")
    await expect(mangadex).to_have_attribute("data-status", "active", timeout=LIVE_TIMEOUT_MS)
    await expect(page.get_by_role("switch")).to_have_count(0)
    await expect(page.locator("[data-action=manage], .manage-row, .manage-form")).to_have_count(0)
    await expect(mangadex.get_by_role("button", name="Test now")).to_be_visible()
    # A phone shows each provider as a card: rows stack instead of scrolling sideways.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    await shots("phone-dark")

    refused = await api(page, "PATCH", "/providers/fake-mangadex/status", {"is_enabled": False})
    assert refused.status == 403
    assert (await (await api(page, "GET", "/providers/fake-mangadex")).json())["is_enabled"]

    # Keyboard: Tab reaches "Test now" and Enter runs it.
    button = mangadex.get_by_role("button", name="Test now")
    await button.focus()
    await page.keyboard.press("Enter")
    await expect(mangadex.locator('[data-field="result"]')).to_contain_text(
        "✓ Up", timeout=LIVE_TIMEOUT_MS
    )
    await shots("phone-dark-tested")


@pytest.mark.parametrize(("viewport", "color_scheme"), [(PHONE, "light")])
async def test_an_admins_phone_shows_no_closed_settings_panel(
    page: Any, server: Server, shots: Screenshots
) -> None:
    await open_dashboard(page, server, "alice")
    panels = page.locator(".manage-row")
    await expect(panels).to_have_count(4)
    for index in range(3):
        await expect(panels.nth(index)).to_be_hidden()
    await shots("phone-admin")
