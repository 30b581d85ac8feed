"""The catalog's pure parts, table-tested: reading an Authorization header, paging links,
chapter names, and text XML can carry."""

from __future__ import annotations

import base64
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from kurobara.opds.atom import xml_text
from kurobara.opds.auth import parse_basic
from kurobara.opds.feeds import ChapterCard, chapter_name, paging_links


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"Basic {b64('bob:pw')}", ("bob", "pw")),
        (f"basic {b64('bob:pw:with:colons')}", ("bob", "pw:with:colons")),
        (f"Basic {b64('bob:')}", ("bob", "")),
        (f"Basic {b64('bob')}", None),  # no colon
        (f"Basic {b64(':pw')}", None),  # no username
        ("Basic !!!", None),
        (f"Bearer {b64('bob:pw')}", None),
        ("Basic " + base64.b64encode(b"\xff:\xfe").decode(), None),  # not UTF-8
        (f"Basic {b64('élodie:pässword')}", ("élodie", "pässword")),
    ],
)
def test_parse_basic(header: str, expected: tuple[str, str] | None) -> None:
    assert parse_basic(header) == expected


@pytest.mark.parametrize(
    ("page", "total", "rels", "start"),
    [
        (1, 0, {"self", "first"}, 1),
        (1, 50, {"self", "first"}, 1),
        (1, 51, {"self", "first", "next", "last"}, 1),
        (2, 51, {"self", "first", "previous"}, 51),
        (2, 150, {"self", "first", "previous", "next", "last"}, 51),
        (9, 51, {"self", "first", "previous"}, 401),  # past the end: back to the last page
    ],
)
def test_paging_links(page: int, total: int, rels: set[str], start: int) -> None:
    links, paging = paging_links("/opds/library", page=page, total=total, kind="k")
    assert {link.rel for link in links} == rels
    assert (paging.total, paging.per_page, paging.start_index) == (total, 50, start)
    by_rel = {link.rel: link.href for link in links}
    assert by_rel["first"] == "/opds/library"
    if "previous" in by_rel and page == 2:
        assert by_rel["previous"] == "/opds/library"
    if "next" in by_rel:
        assert by_rel["next"] == f"/opds/library?page={page + 1}"


def test_paging_keeps_the_search_words() -> None:
    links, _ = paging_links("/opds/search", page=1, total=120, kind="k", params={"q": "one & two"})
    assert {link.rel: link.href for link in links}["next"] == "/opds/search?q=one+%26+two&page=2"


def card(**fields: object) -> ChapterCard:
    base = ChapterCard(
        id=uuid.UUID(int=1),
        manga_id=uuid.UUID(int=2),
        manga_title="Blue",
        number=None,
        volume=None,
        title=None,
        language=None,
        scanlator=None,
        updated=datetime(2026, 1, 1, tzinfo=UTC),
        page_count=None,
        read=False,
        last_page=None,
        cover=None,
        archive=False,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "with_manga", "expected"),
    [
        ({"number": "12"}, False, "Ch. 12"),
        ({"number": "12", "volume": "2"}, False, "Vol. 2 Ch. 12"),
        ({"number": "12", "title": "Rain"}, False, "Ch. 12 — Rain"),
        ({"title": "Oneshot"}, False, "Oneshot"),
        ({}, False, "Chapter"),
        ({"number": "3"}, True, "Blue · Ch. 3"),
    ],
)
def test_chapter_name(fields: dict[str, object], with_manga: bool, expected: str) -> None:
    assert chapter_name(card(**fields), with_manga=with_manga) == expected


@pytest.mark.parametrize(
    ("given", "kept"),
    [("plain", "plain"), ("tab\tand\nnewline", "tab\tand\nnewline"), ("bell\x07", "bell"),
     ("vt\x0b ff\x0c", "vt ff"), ("nul\x00", "nul"), ("ok ✓ 漫画", "ok ✓ 漫画")],
)  # fmt: skip
def test_xml_text_drops_what_xml_cannot_carry(given: str, kept: str) -> None:
    assert xml_text(given) == kept
