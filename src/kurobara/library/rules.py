"""Pure rules of the library: search-term escaping, id de-duplication, spreadsheet-safe cells."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

LIKE_ESCAPE = "\\"
# Cells a spreadsheet would run as a formula when the exported CSV is opened (CSV injection);
# manga titles and notes come from scraped sites and users, so they are never trusted.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def like_pattern(term: str) -> str:
    """A ``LIKE`` pattern matching ``term`` anywhere, with ``%`` and ``_`` taken literally.

    Use with ``escape=LIKE_ESCAPE``. The term is lower-cased the same way ``title_key`` is, so the
    match is case-insensitive on both backends without ``ILIKE``."""
    escaped = (
        term.lower()
        .replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def unique_ids(ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """Drop repeated ids, keeping the first occurrence's order."""
    return list(dict.fromkeys(ids))


def csv_cell(value: object) -> str:
    """A cell for the CSV export: ``None`` is empty, formula-looking text is quoted with ``'``."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text
