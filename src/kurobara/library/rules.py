"""Pure rules of the library: search-term escaping, id de-duplication, spreadsheet-safe cells,
and when an import gives up on a provider or leaves the request for a job."""

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


# Failures that say the site itself is unreachable or refusing us, not that one manga is
# missing or oddly shaped: after one of these, an import stops asking that site.
UNREACHABLE_KINDS = frozenset(
    {"timeout", "dns", "connect", "tls", "bot_challenge", "bot_blocked", "rate_limited"}
)


def site_unreachable(kind: str, status_code: int | None = None) -> bool:
    """Whether a provider failure of ``kind`` (and HTTP ``status_code``) should stop an import
    from sending that provider more requests: transport failures, challenges, rate limits and
    5xx answers do; a 404 or a page that does not parse concern only the one manga."""
    if kind in UNREACHABLE_KINDS:
        return True
    return kind == "http_status" and status_code is not None and status_code >= 500


def runs_inline(fetches: int, *, inline_max: int, background: bool) -> bool:
    """Whether an import answers in its request: only when it needs few provider fetches
    (matching the catalog is database work, however many items) and no job was asked for."""
    return not background and fetches <= inline_max
