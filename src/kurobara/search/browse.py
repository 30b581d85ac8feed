"""Browse: one page of a provider's discovery list (``popular``, ``latest``) where its kind
offers one. A provider the monitor reports down or disabled, or one the user's preferences
leave out, says so instead of being asked; a failure is reported in words and, like a failed
search, counted as evidence of an outage."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.db.engine import Database
from kurobara.images.links import search_results_with_proxied_covers
from kurobara.monitoring.views import search_skips
from kurobara.providers.base import Provider, UnsupportedListing
from kurobara.providers.errors import ProviderError, UnexpectedFailure
from kurobara.providers.http import with_deadline
from kurobara.search.favorites import mark_favorites
from kurobara.search.preferences import Preferences, get_preferences
from kurobara.search.rules import visible_results
from kurobara.search.schemas import BrowsePage, RankedResult
from kurobara.search.service import FAILURE_WORDS, ErrorHook

logger = logging.getLogger(__name__)

__all__ = ["UnsupportedListing", "browse_for_user", "browse_page", "lists_of"]


def lists_of(provider: Provider) -> list[str]:
    """The discovery lists ``provider`` offers, in display order."""
    return list(provider.listings)


def _page(provider: Provider, listing: str, page: int, **fields: object) -> BrowsePage:
    return BrowsePage(
        provider_id=provider.id,
        name=provider.name,
        listing=listing,
        page=page,
        lists=lists_of(provider),
        **fields,
    )


async def browse_page(
    *,
    provider: Provider,
    listing: str,
    page: int,
    limit: int,
    timeout: float,
    skip: Mapping[str, str],
    preferences: Preferences,
    on_provider_error: ErrorHook | None = None,
) -> BrowsePage:
    """Raises ``UnsupportedListing`` when the kind has no such list (before asking anyone)."""
    if listing not in provider.listings:
        raise UnsupportedListing(provider.id, listing)
    reason = preferences.left_out(provider) or skip.get(provider.id)
    if reason is not None:
        return _page(provider, listing, page, status="skipped", reason=reason,
                     message=f"{provider.name} is not asked: {reason}.")  # fmt: skip
    try:
        found = await with_deadline(provider.browse(listing, page=page, limit=limit), timeout)
    except ProviderError as exc:
        error = exc
    except Exception as exc:
        logger.exception("browse provider=%s raised an unclassified error", provider.id)
        error = UnexpectedFailure(f"{type(exc).__name__}: {exc}")
    else:
        shown = search_results_with_proxied_covers(
            visible_results(found[:limit], show_nsfw=preferences.show_nsfw)
        )
        return _page(
            provider, listing, page, status="ok",
            results=[RankedResult(**result.model_dump()) for result in shown],
            has_more=len(found) >= limit,
        )  # fmt: skip
    logger.info("browse provider=%s list=%s kind=%s: %s", provider.id, listing, error.kind,
                error.message)  # fmt: skip
    if on_provider_error is not None:
        try:
            await on_provider_error(provider.id, error)
        except Exception:
            logger.exception("browse provider=%s error hook failed", provider.id)
    words = FAILURE_WORDS.get(error.kind, "failed")
    return _page(
        provider, listing, page, status="error", kind=error.kind,
        message=f"{provider.name} {words}: {error.message}",
    )  # fmt: skip


async def browse_for_user(
    *,
    db_session: AsyncSession,
    db: Database,
    user_id: uuid.UUID,
    provider: Provider,
    listing: str,
    page: int,
    limit: int,
    timeout: float,
    include_down: bool = False,
    on_provider_error: ErrorHook | None = None,
) -> BrowsePage:
    """What the API and the Browse page show: the monitor's skips and the user's preferences
    read first, the connection handed back before the site is asked, then the stars marked in
    a short session of their own (one query for the page). Raises ``UnsupportedListing``."""
    if listing not in provider.listings:
        raise UnsupportedListing(provider.id, listing)
    skip = await search_skips(db_session=db_session, include_down=include_down)
    prefs = await get_preferences(db_session=db_session, user_id=user_id)
    await db_session.close()
    shown = await browse_page(
        provider=provider, listing=listing, page=page, limit=limit, timeout=timeout, skip=skip,
        preferences=prefs, on_provider_error=on_provider_error,
    )  # fmt: skip
    if shown.results:
        async with db.session() as session:
            shown.results = await mark_favorites(
                db_session=session, user_id=user_id, results=shown.results
            )
    return shown
