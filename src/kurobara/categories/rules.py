"""Pure rules of categories: how a name is cleaned, and where each category lands when one
moves."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")

MAX_CATEGORIES = 100
MAX_NAME_LENGTH = 100


def clean_name(value: Any) -> Any:
    """Trim and collapse whitespace; a name must be readable, so control characters (NUL
    included) are refused."""
    if not isinstance(value, str):
        return value
    if any(unicodedata.category(ch) == "Cc" for ch in value.replace("\t", " ")):
        raise ValueError("must not contain control characters")
    return " ".join(value.split())


def moved(items: Sequence[T], item: T, position: int) -> list[T]:
    """``items`` with ``item`` taken out and put back at ``position`` (clamped to the end)."""
    rest = [other for other in items if other != item]
    at = min(max(position, 0), len(rest))
    return [*rest[:at], item, *rest[at:]]
