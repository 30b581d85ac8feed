"""HTTP routes of search: ``GET /search`` (the whole answer at once) and ``GET /search/stream``
(server-sent events: one per provider outcome as it is known, then a summary, then late
answers). Both read what to skip and each provider's deadline from the monitor first, then
hand the database connection back before asking any site."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import StreamingResponse

from kurobara.db.deps import SessionDep
from kurobara.monitoring import jobs as monitoring_jobs
from kurobara.monitoring.deps import ClockDep
from kurobara.providers.deps import RegistryDep
from kurobara.search import browse as browse_service
from kurobara.search import preferences
from kurobara.search import service as search_service
from kurobara.search.favorites import mark_favorites
from kurobara.search.plan import SearchPlan, plan_search
from kurobara.search.schemas import (
    BrowsePage,
    ProviderEvent,
    SearchPreferencesRead,
    SearchPreferencesUpdate,
    SearchResponse,
)
from kurobara.users.deps import CurrentUser
from kurobara.validation import unprocessable

search_router = APIRouter(tags=["search"])

MAX_QUERY_LENGTH = 200

QueryParam = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_QUERY_LENGTH,
        pattern=r"\S",
        description="title to look for (not blank, at most 200 characters)",
    ),
]
ProvidersParam = Annotated[
    list[str] | None,
    Query(description="provider ids (comma-separated or repeated); default: all"),
]
PageParam = Annotated[int, Query(ge=1, le=500)]
LimitParam = Annotated[int, Query(ge=1, le=50, description="results per provider")]
IncludeDownParam = Annotated[bool, Query(description="also ask providers the monitor reports down")]


def split_ids(values: list[str] | None) -> list[str]:
    """``providers=a,b`` and ``providers=a&providers=b`` both name a and b."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _unknown(exc: search_service.UnknownProviders) -> HTTPException:
    pids = exc.provider_ids
    return unprocessable(
        "unknown_provider", ["query", "providers"], [(f"unknown provider {p!r}", p) for p in pids]
    )


def _run_args(request: Request, plan: SearchPlan) -> dict[str, Any]:
    return {
        "registry": plan.registry,
        "provider_ids": plan.provider_ids,
        "timeout": request.app.state.settings.search_timeout,
        "deadlines": plan.deadlines,
        "skip": plan.skip,
        "on_provider_error": monitoring_jobs.early_check_hook(request.app.state),
        "on_latency": plan.latencies.answered,
        "on_miss": plan.latencies.missed,
        "show_nsfw": plan.show_nsfw,
    }


@search_router.get("/search", response_model=SearchResponse)
async def search(
    request: Request,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    clock: ClockDep,
    q: QueryParam,
    providers: ProvidersParam = None,
    page: PageParam = 1,
    limit: LimitParam = 20,
    include_down: IncludeDownParam = False,
) -> SearchResponse:
    """Search the enabled providers at once; one outcome per provider (ok, error, slow,
    skipped). A provider that misses its learned deadline is ``slow`` and not waited for."""
    try:
        plan = await plan_search(
            request.app.state,
            db_session=db_session,
            registry=registry,
            provider_ids=split_ids(providers),
            include_down=include_down,
            now=clock.now(),
            preferences=await preferences.get_preferences(db_session=db_session, user_id=user.id),
        )
    except search_service.UnknownProviders as exc:
        raise _unknown(exc) from exc
    # Nothing below needs the database: hand the connection back before waiting on sites.
    await db_session.close()
    return await search_service.search(query=q, page=page, limit=limit, **_run_args(request, plan))


def _sse(event: str, data: str) -> bytes:
    return f"event: {event}\ndata: {data}\n\n".encode()


@search_router.get(
    "/search/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def search_stream(
    request: Request,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    clock: ClockDep,
    q: QueryParam,
    providers: ProvidersParam = None,
    page: PageParam = 1,
    limit: LimitParam = 20,
    include_down: IncludeDownParam = False,
) -> StreamingResponse:
    """Server-sent events: ``provider`` (an outcome and its results, as soon as it is known,
    with ``pending``: how many are still being asked), ``summary`` (every provider has an
    outcome: ranked, de-duplicated results and a sentence saying what happened), ``late`` (a
    provider reported ``slow`` answered after all), then ``end``."""
    try:
        plan = await plan_search(
            request.app.state,
            db_session=db_session,
            registry=registry,
            provider_ids=split_ids(providers),
            include_down=include_down,
            now=clock.now(),
            preferences=await preferences.get_preferences(db_session=db_session, user_id=user.id),
        )
    except search_service.UnknownProviders as exc:
        raise _unknown(exc) from exc
    await db_session.close()
    events = search_service.stream(
        query=q, page=page, limit=limit, healthy=plan.healthy, **_run_args(request, plan)
    )

    async def body() -> AsyncIterator[bytes]:
        async for event in events:
            if event.summary is not None:
                # A short session of its own: no connection is held while sites are asked.
                async with request.app.state.db.session() as session:
                    event.summary.results = await mark_favorites(
                        db_session=session, user_id=user.id, results=event.summary.results
                    )
                yield _sse("summary", event.summary.model_dump_json())
                continue
            assert event.outcome is not None
            payload = ProviderEvent(
                outcome=event.outcome, results=event.results, pending=event.pending
            )
            yield _sse(event.event, payload.model_dump_json())
        yield _sse("end", "{}")

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _preferences_read(
    registry: RegistryDep, prefs: preferences.Preferences
) -> SearchPreferencesRead:
    return SearchPreferencesRead(
        show_nsfw=prefs.show_nsfw,
        languages=list(prefs.languages),
        available_languages=preferences.provider_languages(registry),
    )


@search_router.get("/search/preferences", response_model=SearchPreferencesRead)
async def read_preferences(
    user: CurrentUser, db_session: SessionDep, registry: RegistryDep
) -> SearchPreferencesRead:
    """The caller's search preferences: NSFW hidden and every language until changed."""
    prefs = await preferences.get_preferences(db_session=db_session, user_id=user.id)
    return _preferences_read(registry, prefs)


@search_router.patch("/search/preferences", response_model=SearchPreferencesRead)
async def update_preferences(
    payload: SearchPreferencesUpdate, user: CurrentUser, db_session: SessionDep,
    registry: RegistryDep,
) -> SearchPreferencesRead:  # fmt: skip
    """Change ``show_nsfw`` and/or ``languages`` (codes such as ``en``, ``pt-br``; an empty
    list asks every language). They apply to searches and browse lists from then on."""
    prefs = await preferences.update_preferences(
        db_session=db_session,
        user_id=user.id,
        show_nsfw=payload.show_nsfw,
        languages=payload.languages,
    )
    return _preferences_read(registry, prefs)


ListingParam = Annotated[
    Literal["popular", "latest"],
    Query(alias="list", description="popular (most followed or viewed) or latest (newest chapter)"),
]


@search_router.get(
    "/providers/{provider_id}/browse",
    response_model=BrowsePage,
    tags=["search"],
    responses={404: {"description": "Unknown provider, or a list its kind does not offer"}},
)
async def browse(
    request: Request,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    provider_id: Annotated[str, Path(max_length=100)],
    listing: ListingParam = "popular",
    page: PageParam = 1,
    limit: LimitParam = 24,
    include_down: IncludeDownParam = False,
) -> BrowsePage:
    """One page of a provider's ``popular`` or ``latest`` list (``lists`` says which it
    offers). A down or disabled provider, or one your preferences leave out, is ``skipped``
    with its reason; a failing one is ``error`` with what happened, and is checked early."""
    if provider_id not in registry:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown provider {provider_id!r}")
    try:
        return await browse_service.browse_for_user(
            db_session=db_session,
            db=request.app.state.db,
            user_id=user.id,
            provider=registry.get(provider_id),
            listing=listing,
            page=page,
            limit=limit,
            timeout=request.app.state.settings.search_timeout,
            include_down=include_down,
            on_provider_error=monitoring_jobs.early_check_hook(request.app.state),
        )
    except browse_service.UnsupportedListing as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
