"""What a user's preferences let a search or a browse list show, pure: which providers are
asked (NSFW ones only when the user shows NSFW, only the user's languages when they chose some)
and which titles are kept (NSFW titles only when shown)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TypeVar

from kurobara.providers.base import SearchResult

NSFW_HIDDEN = "NSFW hidden in your settings"
OTHER_LANGUAGE = "not one of your languages"

T = TypeVar("T", bound=SearchResult)


def primary_language(code: str) -> str:
    """``pt-br`` → ``pt``: a preference for a language covers its regional variants."""
    return code.strip().lower().split("-", 1)[0]


def left_out_reason(
    *, nsfw: bool, language: str, show_nsfw: bool, languages: Collection[str]
) -> str | None:
    """Why a provider is not asked for this user (None: it is asked). ``languages`` empty: all."""
    if nsfw and not show_nsfw:
        return NSFW_HIDDEN
    if languages:
        wanted = {code.lower() for code in languages} | {primary_language(c) for c in languages}
        if language.lower() not in wanted and primary_language(language) not in wanted:
            return OTHER_LANGUAGE
    return None


def visible_results(results: Iterable[T], *, show_nsfw: bool) -> list[T]:
    """The titles a user sees: NSFW ones only when they show NSFW."""
    return [result for result in results if show_nsfw or not result.nsfw]
