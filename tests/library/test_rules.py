import uuid

import pytest

from kurobara.library.rules import csv_cell, like_pattern, unique_ids


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
