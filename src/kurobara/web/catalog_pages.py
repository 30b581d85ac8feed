"""The Sources page (admins): the catalog filtered by language, kind, adult content, state and
name, each entry enabled or disabled with one button, and the community indexes with their
content hash and a "Refresh now". The forms call the same service functions as the API."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from kurobara.catalog import service
from kurobara.catalog.deps import CatalogDep
from kurobara.catalog.schemas import CatalogIndexRead, CatalogQuery
from kurobara.db.deps import SessionDep
from kurobara.monitoring.deps import ClockDep, SettingsDep
from kurobara.users.models import User
from kurobara.web.admin_pages import PageAdmin
from kurobara.web.pages import redirect, render, url_path
from kurobara.web.session import CsrfChecked, set_flash

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
FILTERS = ("q", "language", "kind", "nsfw", "state")
FormStr = Annotated[str, Form()]


def _query(raw: dict[str, str]) -> CatalogQuery:
    """The page's filters, leaving out what does not parse (a hand-edited URL shows the whole
    catalog, not an error page)."""
    values = {key: raw[key] for key in (*FILTERS, "page") if raw.get(key)}
    try:
        return CatalogQuery(**values, limit=PAGE_SIZE)
    except ValidationError as exc:
        bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
        kept = {key: value for key, value in values.items() if key not in bad}
        return CatalogQuery(**kept, limit=PAGE_SIZE)


async def _sources_page(
    request: Request,
    admin: User,
    db_session: SessionDep,
    catalog: CatalogDep,
    raw: dict[str, str],
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    query = _query(raw)
    found = await service.list_catalog(
        db_session=db_session, sources=catalog.sources, registry=catalog.registry,
        flt=query.filter(), page=query.page, limit=query.limit,
    )  # fmt: skip
    filters = {key: raw.get(key, "") for key in FILTERS}
    here = urlencode({k: v for k, v in filters.items() if v} | {"page": query.page})
    pages = max(1, -(-found.total // PAGE_SIZE))

    def page_url(number: int) -> str:
        params = {k: v for k, v in filters.items() if v} | {"page": number}
        return url_path(request, "web:sources") + "?" + urlencode(params)

    return render(
        request,
        "sources.html",
        user=admin,
        status_code=status_code,
        found=found,
        indexes=[CatalogIndexRead.of(row, url) for url, row in found.indexes],
        filters=filters,
        here=here,
        page=query.page,
        pages=pages,
        first=(query.page - 1) * PAGE_SIZE + 1,
        page_url=page_url,
        error=error,
    )


@router.get("/sources", name="web:sources")
async def sources_page(
    request: Request,
    admin: PageAdmin,
    db_session: SessionDep,
    catalog: CatalogDep,
) -> Response:
    raw = {key: value[:100] for key, value in request.query_params.items()}
    return await _sources_page(request, admin, db_session, catalog, raw)


def _back(request: Request, here: str) -> str:
    # Only our own query string goes back into the redirect.
    query = here if here and not here.startswith(("/", "\\")) and "://" not in here else ""
    return url_path(request, "web:sources") + (f"?{query}" if query else "")


@router.post("/sources/refresh", name="web:sources-refresh", dependencies=[CsrfChecked])
async def refresh_sources(request: Request, admin: PageAdmin, catalog: CatalogDep) -> Response:
    await catalog.refresh(force=True)
    response = redirect(url_path(request, "web:sources"))
    set_flash(request, response, "catalog-refreshed")
    return response


@router.post("/sources/{entry_id}", name="web:source-action", dependencies=[CsrfChecked])
async def source_action(
    request: Request,
    entry_id: str,
    admin: PageAdmin,
    db_session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    clock: ClockDep,
    action: FormStr = "",
    here: FormStr = "",
) -> Response:
    raw = {key: value[:100] for key, value in parse_qsl(here[:2000])}
    try:
        if action == "enable":
            await service.enable_entry(
                db_session=db_session, sources=catalog.sources, registry=catalog.registry,
                http=catalog.http, entry_id=entry_id, admin_id=admin.id,
                max_consecutive_failures=settings.max_consecutive_failures, now=clock.now(),
            )  # fmt: skip
        elif action == "disable":
            await service.disable_entry(
                db_session=db_session, sources=catalog.sources, registry=catalog.registry,
                entry_id=entry_id, max_consecutive_failures=settings.max_consecutive_failures,
                now=clock.now(),
            )  # fmt: skip
        else:
            return await _sources_page(
                request, admin, db_session, catalog, raw, status_code=422,
                error="Choose Enable or Disable.",
            )  # fmt: skip
    except service.CatalogError as exc:
        code = 404 if isinstance(exc, service.EntryNotFound) else 409
        return await _sources_page(
            request, admin, db_session, catalog, raw, status_code=code,
            error=str(exc)[:1].upper() + str(exc)[1:] + ".",
        )  # fmt: skip
    response = redirect(_back(request, here))
    set_flash(request, response, f"catalog-{action}")
    return response
