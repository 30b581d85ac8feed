"""The reading side of the UI: search, a manga with its chapters, the reader, the library and
favorites. Each page renders its first view from the same service functions the API uses; the
page scripts (``static/js/search.js``, ``manga.js``, ``reader.js``, ``collection.js``) then talk
to the JSON API through ``api.js`` for stars, library edits, bulk actions and search itself.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.categories import service as category_service
from kurobara.db.deps import SessionDep
from kurobara.failover import proposals as migration_proposals
from kurobara.library import service as library_service
from kurobara.library.schemas import LibraryQuery
from kurobara.manga import service as manga_service
from kurobara.manga.models import Manga
from kurobara.monitoring import service as monitoring_service
from kurobara.monitoring.clock import Clock
from kurobara.monitoring.deps import ClockDep, RegistryDep
from kurobara.providers.errors import ProviderError, UnknownManga
from kurobara.providers.registry import ProviderRegistry, UnknownProvider
from kurobara.providers.wording import in_words
from kurobara.reading import listing as reading_listing
from kurobara.reading import preferences as reader_preferences
from kurobara.reading.service import ProviderSkipped
from kurobara.search import preferences as search_preferences
from kurobara.search.routes import MAX_QUERY_LENGTH
from kurobara.users.models import User
from kurobara.web.pages import CONTENT_SECURITY_POLICY, redirect, render, url_path
from kurobara.web.session import SignedInUser

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 24
TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
SORT_LABELS = {
    "updated_at": "Last updated",
    "created_at": "Date added",
    "title": "Title",
    "rating": "Rating",
    "last_read_at": "Last read",
}


# --- images from provider sites ---------------------------------------------------------------


def image_origins(registry: ProviderRegistry) -> list[str]:
    """The plain-http origins of the registered providers. The page policy already allows any
    https image; a provider an admin configured on http (a LAN mirror, the demo's fake sites)
    would otherwise show blank covers."""
    origins: dict[str, None] = {}
    for provider in registry:
        definition = provider.definition
        values = [definition.url, *(definition.model_extra or {}).values()]
        for value in values:
            if isinstance(value, str) and value.startswith("http://"):
                parts = urlsplit(value)
                if parts.netloc:
                    origins[f"http://{parts.netloc}"] = None
    return list(origins)


def with_image_origins(response: Response, registry: ProviderRegistry) -> Response:
    extra = image_origins(registry)
    if extra:
        directives = [
            f"{d.strip()} {' '.join(extra)}" if d.strip().startswith("img-src ") else d.strip()
            for d in CONTENT_SECURITY_POLICY.split(";")
        ]
        response.headers["Content-Security-Policy"] = "; ".join(directives)
    return response


def _problem(
    request: Request, user: User, *, status_code: int, title: str, message: str, **context: Any
) -> HTMLResponse:
    """A friendly page for what cannot be shown: an unknown manga, a provider that failed."""
    return render(
        request,
        "_browse_problem.html",
        user=user,
        status_code=status_code,
        problem_title=title,
        message=message,
        **context,
    )


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in TRUE_WORDS


# --- search -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderChip:
    """One provider in the search page's strip, as the monitor last saw it."""

    id: str
    name: str
    status: str  # active, down, unknown, testing, or disabled
    reason: str | None  # why a search leaves it out, when it does

    @property
    def unavailable(self) -> bool:
        return self.status in ("down", "disabled")


@router.get("/search", name="web:search")
async def search_page(
    request: Request,
    user: SignedInUser,
    db_session: SessionDep,
    registry: RegistryDep,
    clock: ClockDep,
    q: str = "",
    include_down: str = "",
) -> Response:
    views = await monitoring_service.list_providers(
        db_session=db_session,
        registry=registry,
        settings=request.app.state.settings,
        now=clock.now(),
    )
    # Why a search leaves a provider out: the rules search itself applies (the monitor's, and
    # the user's preferences, whose left-out providers a search does not show at all).
    skips = await monitoring_service.search_skips(db_session=db_session)
    prefs = await search_preferences.get_preferences(db_session=db_session, user_id=user.id)
    left_out = {view.provider_id: prefs.left_out(registry.get(view.provider_id)) for view in views}
    if any(reason is None for reason in left_out.values()):
        views = [view for view in views if left_out[view.provider_id] is None]
    chips = [
        ProviderChip(
            id=view.provider_id,
            name=registry.get(view.provider_id).name,
            status=view.status if view.is_enabled else "disabled",
            reason=left_out[view.provider_id] or skips.get(view.provider_id),
        )
        for view in views
    ]
    response = render(
        request,
        "search.html",
        user=user,
        query=q.strip()[:MAX_QUERY_LENGTH],
        include_down=_flag(include_down),
        providers=chips,
    )
    return with_image_origins(response, registry)


@router.get("/open", name="web:open")
async def open_result(
    request: Request,
    user: SignedInUser,
    db_session: SessionDep,
    registry: RegistryDep,
    provider_id: Annotated[str, Query(max_length=100)] = "",
    external_id: Annotated[str, Query(max_length=255)] = "",
) -> Response:
    """A search result's link: import it into the catalog (or find it there), then show it."""
    if not provider_id.strip() or not external_id.strip() or "\x00" in external_id:
        message = "The link does not name a provider and a title."
        return _problem(request, user, status_code=400, title="Incomplete link", message=message)
    try:
        manga = await manga_service.import_from_provider(
            db_session=db_session,
            registry=registry,
            provider_id=provider_id.strip(),
            external_id=external_id.strip(),
        )
    except UnknownProvider:
        message = f"There is no provider called “{provider_id}” on this server."
        return _problem(request, user, status_code=404, title="Unknown provider", message=message)
    except UnknownManga:
        message = "The provider does not know this title (any more)."
        return _problem(request, user, status_code=404, title="Title not found", message=message)
    except ProviderError as exc:
        return _problem(
            request,
            user,
            status_code=502,
            title="The provider did not answer",
            message=in_words(exc.kind, exc.message, exc.status_code) or exc.message,
            detail=f"{exc.kind}: {exc.message}",
        )
    return redirect(url_path(request, "web:manga", manga_id=str(manga.id)))


# --- a manga and its reader -------------------------------------------------------------------


def _parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def _find_manga(db_session: AsyncSession, manga_id: str) -> Manga | None:
    """The manga a page's URL names; None for a malformed or unknown id (both a 404 page)."""
    parsed = _parse_id(manga_id)
    if parsed is None:
        return None
    return await manga_service.get_manga(db_session=db_session, manga_id=parsed)


def reader_url(request: Request, manga_id: uuid.UUID, chapter_id: str) -> str:
    # Chapter ids are the sites' own (slashes included); quote the rest so "?" or "#" in one
    # stays part of the path.
    manga_url = url_path(request, "web:manga", manga_id=str(manga_id))
    return f"{manga_url}/read/{quote(chapter_id, safe='/')}"


def _missing_manga(request: Request, user: User) -> HTMLResponse:
    message = "There is no manga with this address in the catalog."
    return _problem(request, user, status_code=404, title="Manga not found", message=message)


async def _source_statuses(
    request: Request,
    db_session: SessionDep,
    registry: ProviderRegistry,
    clock: Clock,
    provider_ids: list[str],
) -> list[dict[str, str]]:
    """Each source's provider name and monitor status for the manga page's badges, in one
    status read for all of them."""
    views = await monitoring_service.list_providers(
        db_session=db_session,
        registry=registry,
        settings=request.app.state.settings,
        now=clock.now(),
        provider_ids=provider_ids,
    )
    found = {view.provider_id: view for view in views}
    sources = []
    for provider_id in provider_ids:
        view = found.get(provider_id)
        status = "unknown" if view is None else (view.status if view.is_enabled else "disabled")
        name = registry.get(provider_id).name if provider_id in registry else provider_id
        sources.append({"id": provider_id, "name": name, "status": status})
    return sources


@router.get("/manga/{manga_id}", name="web:manga")
async def manga_page(
    request: Request,
    manga_id: str,
    user: SignedInUser,
    db_session: SessionDep,
    registry: RegistryDep,
    clock: ClockDep,
) -> Response:
    manga = await _find_manga(db_session, manga_id)
    if manga is None:
        return _missing_manga(request, user)
    parsed = manga.id
    # Read the sources first: loading the library entry reloads its manga without them.
    provider_ids = [source.provider_id for source in manga.sources]
    entry = await library_service.get_entry(db_session=db_session, user_id=user.id, manga_id=parsed)
    sources = await _source_statuses(request, db_session, registry, clock, provider_ids)
    response = render(request, "manga.html", user=user, manga=manga, entry=entry, sources=sources)
    return with_image_origins(response, registry)


@router.get("/manga/{manga_id}/read/{chapter_id:path}", name="web:reader")
async def reader_page(
    request: Request,
    manga_id: str,
    chapter_id: str,
    user: SignedInUser,
    db_session: SessionDep,
    registry: RegistryDep,
) -> Response:
    manga = await _find_manga(db_session, manga_id)
    if manga is None:
        return _missing_manga(request, user)
    parsed = manga.id
    back = url_path(request, "web:manga", manga_id=str(parsed))
    try:
        reading: reading_listing.Reading | None = await reading_listing.read_chapter(
            db_session=db_session,
            registry=registry,
            manga_id=parsed,
            user_id=user.id,
            chapter_ref=chapter_id[:500],
            max_age_seconds=request.app.state.settings.chapter_cache_seconds,
            clock=request.app.state.clock,
        )
    except reading_listing.ChapterNotFound:
        reading = None
    except reading_listing.ExternalChapter as exc:
        message = f"{manga.title}: this chapter is published on another site, not here."
        return _problem(
            request, user, status_code=409, title="Read on the publisher's site",
            message=message, back=back, external_url=exc.external_url,
        )  # fmt: skip
    except manga_service.NoUsableSource:
        message = "None of this manga's providers is enabled on this server."
        return _problem(
            request, user, status_code=503, title="No provider", message=message, back=back
        )
    except ProviderSkipped as exc:
        message = f"{manga.title}: its provider is {exc.reason} right now."
        return _problem(
            request, user, status_code=503, title="Provider unavailable", message=message, back=back
        )
    except ProviderError as exc:
        return _problem(
            request,
            user,
            status_code=502,
            title="The chapter could not be loaded",
            message=f"{manga.title}: the provider failed ({exc.kind.replace('_', ' ')}).",
            back=back,
        )
    if reading is None:
        message = "This chapter is not in the provider's list for this manga."
        return _problem(
            request, user, status_code=404, title="Chapter not found", message=message, back=back
        )
    layout = await reader_preferences.get_layout(
        db_session=db_session, user_id=user.id, manga_id=parsed
    )
    # Links use the stable chapter ids; the page's script saves progress against this one and
    # opens the chapter at the page it was left on, in the layout chosen for this manga.
    response = render(
        request,
        "reader.html",
        user=user,
        manga=manga,
        reading=reading,
        layout=layout,
        reader_url=lambda chapter: reader_url(request, parsed, str(chapter.id)),
        progress_id=reading.chapter.id,
        resume_page=reading.chapter.last_page,
        chapter_read=reading.chapter.read,
        next_pages_path=f"/manga/{parsed}/chapters/{reading.next.id}/pages"
        if reading.next
        else None,
    )
    return with_image_origins(response, registry)


# --- library and favorites --------------------------------------------------------------------


def _list_query(request: Request, *, favorites: bool) -> tuple[LibraryQuery, str | None]:
    """The page's query string as the API would read it; bad values fall back to the defaults
    with a message, so a mistyped URL still shows the list."""
    raw = {key: value for key, value in request.query_params.items() if value != ""}
    raw.setdefault("limit", str(PAGE_SIZE))
    if favorites or raw.get("is_favorite") == "any":
        raw.pop("is_favorite", None)
    try:
        return LibraryQuery.model_validate(raw), None
    except ValidationError as exc:
        fields = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
        message = f"Some options in the address were not understood ({', '.join(fields)})."
        return LibraryQuery(limit=PAGE_SIZE), message


async def _collection(
    request: Request, user: User, db_session: SessionDep, *, favorites: bool
) -> Response:
    query, problem = _list_query(request, favorites=favorites)
    listing = await library_service.list_entries(
        db_session=db_session,
        user_id=user.id,
        is_favorite=True if favorites else query.is_favorite,
        search=query.search or None,
        sort_by=query.sort_by,
        sort_order=query.sort_order,
        page=query.page,
        limit=query.limit,
        has_unread=query.has_unread,
        category_id=query.category_id,
    )
    categories = await category_service.list_categories(db_session=db_session, user_id=user.id)
    migrations = await migration_proposals.count_migrations(db_session=db_session, user_id=user.id)
    route = "web:favorites" if favorites else "web:library"
    state = {
        "search": query.search or "",
        "sort_by": query.sort_by,
        "sort_order": query.sort_order,
        "is_favorite": "" if query.is_favorite is None else str(query.is_favorite).lower(),
        "has_unread": "" if query.has_unread is None else str(query.has_unread).lower(),
        "limit": query.limit,
        "category_id": "" if query.category_id is None else str(query.category_id),
    }

    def page_url(number: int, **changes: str) -> str:
        merged = {**state, **changes}
        params = {key: value for key, value in merged.items() if value not in ("", PAGE_SIZE)}
        return url_path(request, route) + "?" + urlencode({**params, "page": number})

    pages = max(1, math.ceil(listing.total / query.limit))
    response = render(
        request,
        "collection.html",
        user=user,
        status_code=422 if problem else 200,
        favorites=favorites,
        route=route,
        entries=listing.items,
        reading=listing.reading,
        continue_url=lambda entry, chapter_id: reader_url(request, entry.manga_id, str(chapter_id)),
        total=listing.total,
        page=query.page,
        pages=pages,
        first=(query.page - 1) * query.limit + 1,
        state=state,
        sort_labels=SORT_LABELS,
        page_url=page_url,
        problem=problem,
        categories=categories,
        migrations=migrations,
    )
    return with_image_origins(response, request.app.state.registry)


@router.get("/library", name="web:library")
async def library_page(request: Request, user: SignedInUser, db_session: SessionDep) -> Response:
    return await _collection(request, user, db_session, favorites=False)


@router.get("/favorites", name="web:favorites")
async def favorites_page(request: Request, user: SignedInUser, db_session: SessionDep) -> Response:
    return await _collection(request, user, db_session, favorites=True)
