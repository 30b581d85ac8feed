"""Layout in a real Chromium: themes, the phone menu, keyboard access, the CSS components."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.web.conftest import PHONE, Screenshots, Server

pytestmark = pytest.mark.browser


async def signed_in(page: Any, server: Server) -> None:
    server.register("bob", PASSWORD)
    await page.goto("/login?next=/settings")
    await page.get_by_label("Username").fill("bob")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url("**/settings")


async def background(page: Any) -> str:
    return str(await page.evaluate("getComputedStyle(document.body).backgroundColor"))


@pytest.mark.parametrize("color_scheme", ["dark"])
async def test_dark_system_preference_gives_a_dark_page(
    page: Any, server: Server, shots: Screenshots
) -> None:
    await page.goto("/login")
    assert await background(page) == "rgb(9, 8, 12)"
    await shots("login-dark")
    await signed_in(page, server)
    await shots("settings-dark")


async def test_theme_toggle_persists_across_pages(
    page: Any, server: Server, shots: Screenshots
) -> None:
    await signed_in(page, server)
    light = await background(page)
    toggle = page.get_by_role("button", name="Switch to dark theme")
    await toggle.click()
    assert await page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert await background(page) != light
    await page.reload()
    assert await background(page) == "rgb(9, 8, 12)"
    assert await page.get_by_label("Dark").is_checked()
    await shots("settings-dark-by-toggle")
    await page.get_by_label("System").check()
    await page.reload()
    assert await background(page) == light


@pytest.mark.parametrize("viewport", [PHONE])
async def test_phone_layout_folds_the_nav_behind_a_menu(
    page: Any, server: Server, shots: Screenshots
) -> None:
    await page.goto("/login")
    await shots("login-phone")
    await signed_in(page, server)
    nav_link = page.get_by_role("link", name="Settings")
    assert not await nav_link.is_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "no horizontal scrolling on a phone"
    await shots("settings-phone")
    menu = page.get_by_role("button", name="Menu")
    await menu.click()
    assert await menu.get_attribute("aria-expanded") == "true"
    assert await nav_link.is_visible()
    await shots("menu-open-phone")
    await page.keyboard.press("Escape")
    assert not await nav_link.is_visible()


async def test_keyboard_reaches_the_skip_link_first(
    page: Any, server: Server, shots: Screenshots
) -> None:
    await signed_in(page, server)
    await page.reload()
    await page.keyboard.press("Tab")
    focused = page.locator(":focus")
    assert await focused.inner_text() == "Skip to content"
    assert await focused.is_visible()
    await shots("skip-link")
    await page.keyboard.press("Enter")
    assert await page.evaluate("location.hash") == "#main"


def cover(title: str, hue: int) -> str:
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 200 300'>"
        f"<defs><linearGradient id='g' x1='0' y1='0' x2='0' y2='1'>"
        f"<stop offset='0' stop-color='hsl({hue},55%,55%)'/>"
        f"<stop offset='1' stop-color='hsl({hue + 40},45%,22%)'/></linearGradient></defs>"
        "<rect width='200' height='300' fill='url(%23g)'/>"
        f"<text x='16' y='270' font-size='22' font-family='sans-serif' fill='white'>{title}</text>"
        "</svg>"
    )
    return "data:image/svg+xml;utf8," + svg.replace("<", "%3C").replace(">", "%3E")


def gallery() -> str:
    titles = ["Black Rose", "Moonlit Path", "Iron Chef", "Sky Atlas", "Paper Fox", "Blue Tide"]
    cards = []
    for index, title in enumerate(titles):
        starred = "true" if index % 2 == 0 else "false"
        extra = " is-unavailable" if index == 4 else (" is-selected" if index == 1 else "")
        badge = '<span class="badge status status-down">down</span>' if index == 4 else ""
        cards.append(
            f'<li class="cover-card{extra}">{badge}'
            f'<button class="star-toggle" aria-pressed="{starred}" aria-label="Favorite {title}">'
            '<svg class="icon" viewBox="0 0 24 24"><path d="m12 3 2.8 5.7 6.2.9-4.5 4.4 1.1 '
            '6.2L12 17.3l-5.6 2.9 1.1-6.2L3 9.6l6.2-.9z"/></svg></button>'
            f'<div class="cover"><img alt="" src="{cover(title, index * 55)}"></div>'
            f'<h3 class="cover-title"><a href="#">{title}</a></h3>'
            '<p class="cover-meta">MangaDex · 124 ch.</p></li>'
        )

    def beats(pattern: str) -> str:
        kinds = {"o": "ok", "x": "fail", "-": ""}
        spans = "".join(f'<span class="{kinds[c]}"></span>' for c in pattern)
        return f'<div class="heartbeat">{spans}</div>'

    html = (Path(__file__).parent / "components.html").read_text()
    return (
        html.replace("{covers}", "".join(cards))
        .replace("{beat_ok}", beats("o" * 24))
        .replace("{beat_bad}", beats("ooooooooooooooooxxoxxxxx"))
        .replace("{beat_none}", beats("-" * 24))
    )


# The seed's colours: green active, red down, gray unknown or disabled, yellow testing.
SEED_HUES = {"active": "green", "down": "red", "testing": "yellow", "unknown": "gray"}


def hue_name(rgb: str) -> str:
    red, green, blue = (int(part) for part in re.findall(r"\d+", rgb)[:3])
    if max(red, green, blue) - min(red, green, blue) < 30:
        return "gray"
    if red > 150 and green > 120 and blue < 80:
        return "yellow"
    return "red" if red >= green else "green"


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
async def test_status_badges_and_cover_cards_follow_the_seed(
    page: Any, shots: Screenshots, color_scheme: str
) -> None:
    await page.goto("/static/css/kurobara.css")
    await page.set_content(gallery())
    for status, expected in {**SEED_HUES, "disabled": "gray"}.items():
        dot = await page.evaluate(
            "(s) => getComputedStyle(document.querySelector(`[data-status=${s}]`), '::before')"
            ".backgroundColor",
            status,
        )
        assert hue_name(dot) == expected, (status, dot)
    star = page.get_by_role("button", name="Favorite Black Rose")
    assert await star.get_attribute("aria-pressed") == "true"
    await shots(f"components-{color_scheme}")
