"""Pure rules of the reading model: how a site's chapter becomes a row, when a stored list is
too old, whether a provider may be asked, what "read" means, where "Continue" goes and how the
reader lays a manga out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kurobara.providers.base import Chapter

DISABLED = "disabled"
DOWN = "down"
UNREGISTERED = "unregistered"

READING_MODES = ("ltr", "rtl", "vertical")
PAGE_FITS = ("width", "height", "original")
DEFAULT_MODE = "ltr"


def parse_number(text: str | None) -> float | None:
    """A chapter number as a float ("10.5" -> 10.5); None for extras and one-shots."""
    if text is None:
        return None
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _clean(value: str | None, max_length: int) -> str | None:
    """Text from a site as a column can hold it: no NUL (PostgreSQL refuses it), not too long."""
    if value is None:
        return None
    value = value.replace("\x00", "").strip()
    return value[:max_length] or None


def chapter_rows(chapters: Sequence[Chapter]) -> list[dict[str, Any]]:
    """The column values of a fetched list, in provider order (``position``), each external id
    once (the first listing wins) and ids too long to store left out."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for chapter in chapters:
        external_id = chapter.external_id.replace("\x00", "")
        if not external_id or len(external_id) > 500 or external_id in seen:
            continue
        seen.add(external_id)
        number_text = _clean(chapter.number, 50)
        rows.append(
            {
                "external_id": external_id,
                "number_text": number_text,
                "number": parse_number(number_text),
                "volume": _clean(chapter.volume, 50),
                "title": _clean(chapter.title, 500),
                "language": _clean(chapter.language, 20),
                "scanlator": _clean(chapter.scanlator, 255),
                "published_at": chapter.published_at,
                "url": chapter.url if chapter.url and len(chapter.url) <= 1000 else None,
                "external_url": (
                    chapter.external_url
                    if chapter.external_url and len(chapter.external_url) <= 1000
                    else None
                ),
                "position": len(rows),
            }
        )
    return rows


def skip_reason(*, registered: bool, enabled: bool, status: str | None) -> str | None:
    """Why a provider must not be asked for chapters or pages now, or None when it may be:
    the admin's stored switch first, then the monitor's ``down``."""
    if not registered:
        return UNREGISTERED
    if not enabled:
        return DISABLED
    if status == DOWN:
        return DOWN
    return None


def is_fresh(refreshed_at: datetime | None, now: datetime, max_age_seconds: float) -> bool:
    """Whether a stored chapter list fetched at ``refreshed_at`` may be answered as is."""
    if refreshed_at is None:
        return False
    return now - refreshed_at < timedelta(seconds=max_age_seconds)


def reached_end(last_page: int | None, page_count: int | None) -> bool:
    """A chapter whose last page was reached is read (when its page count is known)."""
    return last_page is not None and page_count is not None and last_page >= page_count > 0


def continue_target(
    *, latest_id: Any | None, latest_read: bool, first_unread_id: Any | None
) -> Any | None:
    """Where "Continue" goes: the chapter the user read in most recently while it is not
    finished (to resume at its page); otherwise the first unread chapter (the query that finds
    it prefers those after the one read in last). None when everything is read."""
    if latest_id is not None and not latest_read:
        return latest_id
    return first_unread_id


@dataclass(frozen=True, slots=True)
class ReaderLayout:
    mode: str
    fit: str
    remembered: bool  # chosen for this very manga (not carried over from another)


def default_fit(mode: str) -> str:
    """A strip is read fitted to the width; a paged page is seen whole, fitted to the height."""
    return "width" if mode == "vertical" else "height"


def reader_layout(own: tuple[str, str] | None, latest: tuple[str, str] | None) -> ReaderLayout:
    """How the reader opens a manga: the (mode, fit) chosen for it; for a manga never opened,
    the user's most recent choice on another; else left to right, fit height. A stored value
    this version does not know (a mode since removed) falls back as if it were not there."""
    for chosen, remembered in ((own, True), (latest, False)):
        if chosen is None or chosen[0] not in READING_MODES:
            continue
        mode, fit = chosen
        return ReaderLayout(mode, fit if fit in PAGE_FITS else default_fit(mode), remembered)
    return ReaderLayout(DEFAULT_MODE, default_fit(DEFAULT_MODE), False)
