"""The Browse page: a provider's ``popular`` and ``latest`` lists, to discover without typing.
It renders from the same service function as ``GET /api/v1/providers/{id}/browse``
(``search.browse.browse_for_user``); links open a title through ``/open`` like search results."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from kurobara.db.deps import SessionDep
from kurobara.monitoring import jobs as monitoring_jobs
from kurobara.monitoring.deps import RegistryDep
from kurobara.providers.base import LISTINGS
from kurobara.search import browse as browse_service
from kurobara.search import preferences as search_preferences
from kurobara.web.browse import with_image_origins
from kurobara.web.pages import render
from kurobara.web.session import SignedInUser

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 24
LIST_LABELS = {"popular": "Popular", "latest": "Latest updates"}


@router.get("/browse", name="web:browse")
async def browse_page(
    request: Request,
    user: SignedInUser,
    db_session: SessionDep,
    registry: RegistryDep,
    provider: Annotated[str, Query(max_length=100)] = "",
    listing: Annotated[Literal["popular", "latest"], Query(alias="list")] = "popular",
    page: Annotated[int, Query(ge=1, le=500)] = 1,
) -> Response:
    prefs = await search_preferences.get_preferences(db_session=db_session, user_id=user.id)
    # The providers with lists that the user's preferences let through, in registry order.
    browsable = [p for p in registry if p.listings and prefs.left_out(p) is None]
    chosen = next((p for p in browsable if p.id == provider), None)
    if chosen is None and not provider and browsable:
        chosen = browsable[0]
    context: dict[str, Any] = {
        "providers": browsable,
        "chosen": chosen,
        "listing": listing,
        "labels": LIST_LABELS,
        "order": LISTINGS,
        "page": page,
        "shown": None,
    }
    if chosen is None or listing not in chosen.listings:
        status_code = 404 if provider else 200
        return render(request, "discover.html", user=user, status_code=status_code,
                      asked=provider, **context)  # fmt: skip
    shown = await browse_service.browse_for_user(
        db_session=db_session,
        db=request.app.state.db,
        user_id=user.id,
        provider=chosen,
        listing=listing,
        page=page,
        limit=PAGE_SIZE,
        timeout=request.app.state.settings.search_timeout,
        on_provider_error=monitoring_jobs.early_check_hook(request.app.state),
    )
    context["shown"] = shown
    response = render(request, "discover.html", user=user, asked=provider, **context)
    return with_image_origins(response, registry)
