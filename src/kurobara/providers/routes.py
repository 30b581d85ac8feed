"""HTTP routes of the provider layer: ``GET /search`` across providers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from kurobara.db.deps import SessionDep
from kurobara.images.links import search_results_with_proxied_covers
from kurobara.monitoring import jobs as monitoring_jobs
from kurobara.monitoring import service as monitoring_service
from kurobara.providers import search as search_service
from kurobara.providers.deps import RegistryDep
from kurobara.providers.schemas import SearchResponse
from kurobara.users.deps import CurrentUser

search_router = APIRouter(tags=["search"])

MAX_QUERY_LENGTH = 200


def split_ids(values: list[str] | None) -> list[str]:
    """``providers=a,b`` and ``providers=a&providers=b`` both name a and b."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


@search_router.get("/search", response_model=SearchResponse)
async def search(
    request: Request,
    user: CurrentUser,
    db_session: SessionDep,
    registry: RegistryDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            pattern=r"\S",
            description="title to look for (not blank, at most 200 characters)",
        ),
    ],
    providers: Annotated[
        list[str] | None,
        Query(description="provider ids (comma-separated or repeated); default: all"),
    ] = None,
    page: Annotated[int, Query(ge=1, le=500)] = 1,
    limit: Annotated[int, Query(ge=1, le=50, description="results per provider")] = 20,
    include_down: Annotated[
        bool, Query(description="also ask providers the monitor reports down")
    ] = False,
) -> SearchResponse:
    """Search the enabled providers at once; one outcome per provider (ok, error, skipped)."""
    skip = await monitoring_service.search_skips(db_session=db_session, include_down=include_down)
    # Nothing below needs the database: hand the connection (and the transaction that loading
    # the user opened) back before waiting on sites for up to the search timeout.
    await db_session.close()
    try:
        found = await search_service.search(
            registry=registry,
            query=q,
            provider_ids=split_ids(providers),
            page=page,
            limit=limit,
            timeout=request.app.state.settings.search_timeout,
            skip=skip,
            on_provider_error=monitoring_jobs.early_check_hook(request.app.state),
        )
    except search_service.UnknownProviders as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[
                {
                    "type": "unknown_provider",
                    "loc": ["query", "providers"],
                    "msg": f"unknown provider {pid!r}",
                    "input": pid,
                }
                for pid in exc.provider_ids
            ],
        ) from exc
    # Covers through this server's image proxy, never the source's address.
    found.results = search_results_with_proxied_covers(found.results)
    return found
