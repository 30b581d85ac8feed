"""The reader in a real Chromium against the demo's fake sites: paged left-to-right and
right-to-left, the vertical strip, the three fits, remembered per manga; counter, slider, keys,
full screen and the end-of-chapter panel on a desktop; taps, swipes and the touch hint on a
phone; the layout following the user to another device; and the pages fetched ahead (the next
pages, and near the end the next chapter's first pages), observed as the browser's requests."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import TLS
from tests.factories import PASSWORD
from tests.web.conftest import DESKTOP, PHONE, FakeSites, Screenshots, Server, screenshot_dir
from tests.web.test_browser_account import log_in
from tests.web.test_browser_browse import api_token

pytestmark = pytest.mark.browser


@pytest.fixture
def server_env(fake_sites: FakeSites) -> dict[str, str]:
    return fake_sites.env()


def two_manga(server: Server, headers: dict[str, str], provider_id: str) -> list[dict[str, Any]]:
    """Two manga of the fake MangaDex with at least three chapters each, and their chapters."""
    found = []
    with httpx.Client(base_url=server.url, headers=headers, timeout=30, verify=TLS) as client:
        results = client.get("/api/v1/search", params={"q": "e"}).json()["results"]
        for result in results:
            if result["provider_id"] != provider_id:
                continue
            manga = client.post(
                "/api/v1/manga/import",
                json={"provider_id": result["provider_id"], "external_id": result["external_id"]},
            ).json()
            chapters = client.get(f"/api/v1/manga/{manga['id']}/chapters").json()["chapters"]
            if len(chapters) >= 3:
                found.append({**manga, "chapters": chapters})
            if len(found) == 2:
                return found
    raise AssertionError("the fake site has too few manga with three chapters")


def mangadex(fake_sites: FakeSites) -> str:
    name: str = fake_sites.site("mangadex").name
    return name


def reader_path(manga: dict[str, Any], chapter: dict[str, Any]) -> str:
    return f"/manga/{manga['id']}/read/{chapter['id']}"


async def counter(page: Any) -> str:
    text: str = await page.locator("[data-counter]").inner_text()
    return text


async def wait_counter(page: Any, text: str) -> None:
    await page.wait_for_function(
        "(text) => document.querySelector('[data-counter]').textContent === text", arg=text
    )


async def visible_pages(page: Any) -> list[str]:
    numbers: list[str] = await page.eval_on_selector_all(
        "[data-page]",
        "(items) => items.filter((li) => li.offsetParent).map((li) => li.dataset.page)",
    )
    return numbers


async def image_box(page: Any, number: int) -> dict[str, float]:
    img = page.get_by_role("img", name=f"Page {number}", exact=True)
    await page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=await img.element_handle()
    )
    box: dict[str, float] = await img.evaluate(
        "(img) => { const s = img.closest('[data-stage]');"
        " return { width: img.clientWidth, height: img.clientHeight, natural: img.naturalWidth,"
        " stageWidth: s.clientWidth, stageHeight: s.clientHeight }; }"
    )
    return box


def saved(last_page: int) -> Any:
    """Matches the reader's progress save of ``last_page``."""

    def match(response: Any) -> bool:
        request = response.request
        return (
            request.method == "PATCH"
            and request.url.endswith("/progress")
            and f'"last_page":{last_page}' in (request.post_data or "")
        )

    return match


async def choose(page: Any, label: str) -> None:
    """Pick a mode or fit in the settings panel and wait for the server to keep it."""
    settings = page.locator("[data-settings]")
    if not await settings.evaluate("(d) => d.open"):
        await settings.locator("summary").click()
    radio = settings.get_by_label(label, exact=True)
    if await radio.is_checked():
        return
    async with page.expect_response(
        lambda r: r.request.method == "PUT" and r.url.endswith("/reader-preferences") and r.ok
    ):
        await radio.check()


async def test_reader_on_a_desktop(
    page: Any, server: Server, shots: Screenshots, fake_sites: FakeSites
) -> None:
    server.register("erin", PASSWORD)
    first, second = two_manga(server, api_token(server, "erin"), mangadex(fake_sites))
    chapters = first["chapters"]
    await page.goto(reader_path(first, chapters[1]))
    await log_in(page, "erin")
    await page.wait_for_url("**/read/**")
    total = await page.locator("[data-page]").count()
    assert total > 1

    # Paged, left to right, fit height by default: one page, counter and slider.
    await wait_counter(page, f"1 / {total}")
    assert await visible_pages(page) == ["1"]
    box = await image_box(page, 1)
    assert abs(box["height"] - box["stageHeight"]) <= 2
    hint = await page.locator("[data-hint]").inner_text()
    assert "←" in hint
    await shots("paged-ltr")
    await page.keyboard.press("ArrowRight")
    await wait_counter(page, f"2 / {total}")
    assert await visible_pages(page) == ["2"]
    await page.keyboard.press("ArrowLeft")
    await wait_counter(page, f"1 / {total}")
    await page.locator("[data-slider]").fill(str(total - 1))
    await wait_counter(page, f"{total - 1} / {total}")
    await page.keyboard.press("End")
    await wait_counter(page, f"{total} / {total}")

    # Past the last page: the end panel, then the next chapter.
    await page.keyboard.press("Space")
    await page.locator("[data-end]").get_by_text("End of").wait_for()
    assert await visible_pages(page) == []
    await shots("end-of-chapter")
    here = page.url
    await page.keyboard.press("ArrowRight")
    await page.wait_for_url(lambda url: url != here and chapters[2]["id"] in url)
    await wait_counter(page, "1 / " + str(await page.locator("[data-page]").count()))

    # Right to left: ← goes forwards; remembered for this manga only.
    await choose(page, "Right to left")
    await page.keyboard.press("Escape")
    await page.locator("[data-stage]").click(position={"x": 5, "y": 5})  # left side: forwards
    await wait_counter(page, "2 / " + str(await page.locator("[data-page]").count()))
    await page.keyboard.press("ArrowLeft")
    await wait_counter(page, "3 / " + str(await page.locator("[data-page]").count()))
    async with page.expect_response(saved(2)):
        await page.keyboard.press("ArrowRight")
    await wait_counter(page, "2 / " + str(await page.locator("[data-page]").count()))
    await shots("paged-rtl")

    # Progress: the chapter finished is read, this one opens again at page 2.
    await page.reload()
    await wait_counter(page, "2 / " + str(await page.locator("[data-page]").count()))
    await page.get_by_text("Resumed at page 2.").wait_for()
    headers = api_token(server, "erin")
    async with httpx.AsyncClient(base_url=server.url, headers=headers, verify=TLS) as client:
        listed = (await client.get(f"/api/v1/manga/{first['id']}/chapters")).json()["chapters"]
        kept = (await client.get(f"/api/v1/manga/{first['id']}/reader-preferences")).json()
    assert (kept["mode"], kept["fit"], kept["remembered"]) == ("rtl", "height", True)
    assert [c["read"] for c in listed[:3]] == [False, True, False]
    assert listed[2]["last_page"] == 2

    await page.goto(reader_path(second, second["chapters"][0]))
    await choose(page, "Vertical (webtoon)")
    await choose(page, "Width")
    second_total = await page.locator("[data-page]").count()
    assert await visible_pages(page) == [str(n) for n in range(1, second_total + 1)]
    box = await image_box(page, 1)
    assert abs(box["width"] - min(box["stageWidth"], 1100)) <= 2
    await page.locator('[data-page="3"]').scroll_into_view_if_needed()
    await page.evaluate("document.querySelector('[data-page=\"3\"]').scrollIntoView()")
    await wait_counter(page, f"3 / {second_total}")
    await shots("vertical-width")
    await choose(page, "Original size")
    box = await image_box(page, 3)
    assert box["width"] == box["natural"]

    await page.goto(reader_path(first, chapters[0]))
    assert await page.get_by_label("Right to left", exact=True).is_checked()
    await page.goto(reader_path(second, second["chapters"][1]))
    assert await page.get_by_label("Vertical (webtoon)", exact=True).is_checked()
    assert await page.get_by_label("Original size", exact=True).is_checked()

    # Full screen: the button and F.
    await choose(page, "Left to right")
    await choose(page, "Height")
    await page.keyboard.press("Escape")
    await page.get_by_role("button", name="Full screen").click()
    await page.wait_for_function("() => document.fullscreenElement?.matches('[data-reader]')")
    await shots("fullscreen")
    await page.keyboard.press("f")
    await page.wait_for_function("() => document.fullscreenElement === null")

    # The dark theme.
    await page.emulate_media(color_scheme="dark")
    await page.goto(reader_path(first, chapters[1]))
    await wait_counter(page, f"1 / {total}")
    await shots("paged-rtl-dark")


async def test_reader_on_a_phone(
    browser: Any, server: Server, fake_sites: FakeSites, request: pytest.FixtureRequest
) -> None:
    server.register("finn", PASSWORD)
    manga, _ = two_manga(server, api_token(server, "finn"), mangadex(fake_sites))
    # A touch screen: the page fixture's context is a desktop one; this one taps and swipes.
    context = await browser.new_context(
        base_url=server.url,
        viewport=PHONE,
        color_scheme="dark",
        has_touch=True,
        is_mobile=True,
        device_scale_factor=2,
    )
    try:
        phone = await context.new_page()
        errors: list[str] = []
        phone.on("pageerror", lambda exc: errors.append(str(exc)))
        shots = Screenshots(phone, screenshot_dir(request))
        await phone.goto(reader_path(manga, manga["chapters"][1]))
        await log_in(phone, "finn")
        await phone.wait_for_url("**/read/**")
        total = await phone.locator("[data-page]").count()
        await wait_counter(phone, f"1 / {total}")
        hint = await phone.locator("[data-hint]").inner_text()
        assert "Tap" in hint
        assert "←" not in hint
        assert "→" not in hint
        await image_box(phone, 1)
        await shots("phone-paged")

        stage = await phone.locator("[data-stage]").bounding_box()
        middle_y = stage["y"] + stage["height"] / 2
        await phone.touchscreen.tap(stage["x"] + stage["width"] - 20, middle_y)
        await wait_counter(phone, f"2 / {total}")
        await swipe(context, phone, stage["x"] + stage["width"] - 30, stage["x"] + 30, middle_y)
        await wait_counter(phone, f"3 / {total}")
        await swipe(context, phone, stage["x"] + 30, stage["x"] + stage["width"] - 30, middle_y)
        await wait_counter(phone, f"2 / {total}")
        await phone.touchscreen.tap(stage["x"] + 20, middle_y)
        await wait_counter(phone, f"1 / {total}")

        # A tap in the middle hides the bars, another brings them back.
        await phone.touchscreen.tap(stage["x"] + stage["width"] / 2, middle_y)
        await phone.locator("[data-controls]").wait_for(state="hidden")
        await shots("phone-bars-hidden")
        await phone.touchscreen.tap(stage["x"] + stage["width"] / 2, middle_y)
        await phone.locator("[data-controls]").wait_for()

        async with phone.expect_response(layout_saved("vertical", "height")):
            await choose(phone, "Vertical (webtoon)")
        async with phone.expect_response(layout_saved("vertical", "width")):
            await choose(phone, "Width")
        await phone.locator("[data-settings] summary").click()
        await shots("phone-vertical")
        assert not errors, errors
    finally:
        await context.close()

    # The choice is the server's: another device (a desktop browser) opens this manga in it.
    desktop = await browser.new_context(base_url=server.url, viewport=DESKTOP)
    try:
        other = await desktop.new_page()
        await other.goto(reader_path(manga, manga["chapters"][0]))
        await log_in(other, "finn")
        await other.wait_for_url("**/read/**")
        assert await other.locator("[data-reader]").get_attribute("data-layout") == "strip"
        assert await other.get_by_label("Vertical (webtoon)", exact=True).is_checked()
        assert await other.get_by_label("Width", exact=True).is_checked()
    finally:
        await desktop.close()


def layout_saved(mode: str, fit: str) -> Any:
    """Matches the reader's save of this layout, answered by the server."""

    def match(response: Any) -> bool:
        request = response.request
        return (
            request.method == "PUT"
            and request.url.endswith("/reader-preferences")
            and response.ok
            and (request.post_data_json or {}) == {"mode": mode, "fit": fit}
        )

    return match


async def swipe(context: Any, phone: Any, from_x: float, to_x: float, y: float) -> None:
    """A one-finger horizontal swipe through the DevTools protocol (real touch events)."""
    cdp = await context.new_cdp_session(phone)
    steps = [("touchStart", from_x)] + [
        ("touchMove", from_x + (to_x - from_x) * step / 5) for step in range(1, 6)
    ]
    for kind, x in steps:
        await cdp.send(
            "Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]}
        )
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    await cdp.detach()


async def wait_requested(requested: list[str], paths: list[str], timeout: float = 15) -> None:
    """Until the browser has asked for every one of ``paths``."""
    deadline = time.monotonic() + timeout
    while not set(paths) <= set(requested):
        assert time.monotonic() < deadline, sorted(set(paths) - set(requested))
        await asyncio.sleep(0.05)


async def test_reader_fetches_the_next_pages_and_the_next_chapters_first_pages(
    page: Any, server: Server, fake_sites: FakeSites
) -> None:
    server.register("gwen", PASSWORD)
    manga, _ = two_manga(server, api_token(server, "gwen"), mangadex(fake_sites))
    chapter, following = manga["chapters"][0], manga["chapters"][1]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(urlsplit(request.url).path))
    await page.goto(reader_path(manga, chapter))
    await log_in(page, "gwen")
    await page.wait_for_url("**/read/**")
    paths = [
        urlsplit(src).path
        for src in await page.eval_on_selector_all(
            "[data-page] img", "(all) => all.map((i) => i.src)"
        )
    ]
    total = len(paths)
    assert total >= 4
    await wait_counter(page, f"1 / {total}")
    # On page 1: the three pages after it are fetched before they are shown ...
    await wait_requested(requested, paths[:4])
    # ... the rest of the chapter and the next chapter's page list not yet.
    assert not set(paths[4:]) & set(requested), [paths.index(p) for p in requested if p in paths]
    assert not [path for path in requested if f"/chapters/{following['id']}/" in path]

    # Near the end, the next chapter's page list and its first three pages.
    async with page.expect_response(
        lambda r: f"/chapters/{following['id']}/pages" in r.url
    ) as listed:
        await page.keyboard.press("End")
    next_paths = [urlsplit(p["url"]).path for p in (await (await listed.value).json())["pages"]]
    await wait_counter(page, f"{total} / {total}")
    await wait_requested(requested, paths[-2:] + next_paths[:3])
    assert not set(next_paths[3:]) & set(requested)
    fetched = [path for path in requested if path in set(next_paths)]
    assert len(fetched) == min(3, len(next_paths))  # each once

    # The next chapter opens with its first pages at hand (the browser's cache has them).
    await page.keyboard.press("Space")
    async with page.expect_event("load"):
        await page.keyboard.press("ArrowRight")
    await page.wait_for_url(f"**/read/{following['id']}")
    await image_box(page, 1)
