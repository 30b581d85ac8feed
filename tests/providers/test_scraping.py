"""Pure scraping helpers shared by the ``madara`` and ``html`` kinds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kurobara.providers.errors import ParseFailure
from kurobara.providers.scraping import (
    best_srcset_candidate,
    chapter_number,
    check_selector,
    check_template,
    image_url,
    normalize_status,
    parse_date,
    parse_html,
)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Chapter 10", "10"),
        ("Chapter 10.5 - Homecoming", "10.5"),
        ("Ch. 007", "7"),
        ("Vol. 2 Ch. 14,5", "14.5"),
        ("Episode 3: The Sea", "3"),
        ("12", "12"),
        ("Chapter 10.50", "10.5"),
        ("Oneshot", None),
        ("Side story", None),
    ],
)
def test_chapter_number(text: str, number: str | None) -> None:
    assert chapter_number(text) == number


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("OnGoing", "ongoing"),
        ("  on going ", "ongoing"),
        ("Completed", "completed"),
        ("End", "completed"),
        ("On Hold", "hiatus"),
        ("Canceled", "cancelled"),
        ("Status: Dropped", "cancelled"),
        ("Upcoming", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_status(text: str | None, status: str | None) -> None:
    assert normalize_status(text) == status


@pytest.mark.parametrize(
    ("srcset", "best"),
    [
        ("a.jpg 110w, b.jpg 193w", "b.jpg"),
        ("b.jpg 2x, a.jpg 1x", "b.jpg"),
        ("only.jpg", "only.jpg"),
        ("first.jpg, second.jpg", "first.jpg"),
        ("", None),
    ],
)
def test_best_srcset_candidate(srcset: str, best: str | None) -> None:
    assert best_srcset_candidate(srcset) == best


@pytest.mark.parametrize(
    ("img", "url"),
    [
        ('<img data-src="  /up/1.jpg\n" src="data:image/gif;base64,R0l=">', "https://s.test/up/1.jpg"),
        ('<img data-lazy-src="2.jpg" src="/blank.gif">', "https://s.test/ch/2.jpg"),
        ('<img srcset="/s.jpg 100w, /l.jpg 900w" src="/s.jpg">', "https://s.test/l.jpg"),
        ('<img src="https://cdn.test/3.png">', "https://cdn.test/3.png"),
        ('<img src="data:image/gif;base64,R0l=">', None),
        ('<a href="/x"><img src="/in-link.png"></a>', "https://s.test/in-link.png"),
    ],
)  # fmt: skip
def test_image_url_sees_through_lazy_loading(img: str, url: str | None) -> None:
    tree = parse_html(f"<div id=x>{img}</div>", what="t")
    assert image_url(tree.css_first("#x"), "https://s.test/ch/") == url


def test_image_url_reads_only_the_named_attribute() -> None:
    node = parse_html('<img data-src="/lazy.jpg" data-full="/full.jpg">', what="t").css_first("img")
    assert image_url(node, "https://s.test/", "data-full") == "https://s.test/full.jpg"
    assert image_url(node, "https://s.test/", "src") is None


def test_parse_date_in_the_site_format() -> None:
    assert parse_date("March 1st, 2024", "%B %d, %Y") == datetime(2024, 3, 1, tzinfo=UTC)
    assert parse_date("01.03.2024", "%d.%m.%Y") == datetime(2024, 3, 1, tzinfo=UTC)
    assert parse_date("2 days ago", "%B %d, %Y") is None
    assert parse_date("March 1, 2024", None) is None


def test_selectors_and_templates_are_checked() -> None:
    assert check_selector("  li.wp-manga-chapter > a ") == "li.wp-manga-chapter > a"
    for bad in ("div[", "a >", "", "p:contains(x)"):
        with pytest.raises(ValueError, match="CSS selector"):
            check_selector(bad)
    assert check_template("/s?q={query}", allowed={"query", "page"}, required={"query"})
    with pytest.raises(ValueError, match="unknown template field"):
        check_template("/s?q={}", allowed={"query"}, required={"query"})
    with pytest.raises(ValueError, match="invalid template"):
        check_template("/s?q={query", allowed={"query"}, required={"query"})


def test_an_empty_page_is_a_parse_failure() -> None:
    with pytest.raises(ParseFailure, match="empty page"):
        parse_html("  \n", what="search page")
