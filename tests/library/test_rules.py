import uuid

import pytest

from kurobara.library.rules import (
    csv_cell,
    like_pattern,
    runs_inline,
    site_unreachable,
    unique_ids,
)


@pytest.mark.parametrize(
    ("term", "pattern"),
    [
        ("One Piece", "%one piece%"),
        ("100%", "%100\\%%"),
        ("a_b", "%a\\_b%"),
        ("back\\slash", "%back\\\\slash%"),
    ],
)
def test_like_pattern_takes_wildcards_literally(term: str, pattern: str) -> None:
    assert like_pattern(term) == pattern


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("@cmd", "'@cmd"),
        ("Berserk", "Berserk"),
        (4.5, "4.5"),
    ],
)
def test_csv_cell_defuses_formulas(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_unique_ids_keeps_first_occurrence_order() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert unique_ids([b, a, b, a]) == [b, a]


@pytest.mark.parametrize(
    ("kind", "status_code", "unreachable"),
    [
        ("timeout", None, True),
        ("connect", None, True),
        ("dns", None, True),
        ("tls", None, True),
        ("bot_challenge", 403, True),
        ("rate_limited", 429, True),
        ("http_status", 503, True),
        ("http_status", 404, False),
        ("parse", None, False),
        ("not_found", 404, False),
        ("unexpected", None, False),
    ],
)
def test_site_unreachable_stops_asking_only_for_site_wide_failures(
    kind: str, status_code: int | None, unreachable: bool
) -> None:
    assert site_unreachable(kind, status_code) is unreachable


@pytest.mark.parametrize(
    ("fetches", "background", "inline"),
    [(0, False, True), (10, False, True), (11, False, False), (0, True, False)],
)
def test_an_import_runs_inline_only_with_few_fetches_and_no_job_asked_for(
    fetches: int, background: bool, inline: bool
) -> None:
    assert runs_inline(fetches, inline_max=10, background=background) is inline
