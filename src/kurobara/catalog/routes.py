"""HTTP for the catalog: ``/api/v1/catalog`` (list with filters and paging: any signed-in
user; enable, disable, refresh: admins). Parse, authorize, call one service function, shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from kurobara.catalog import service
from kurobara.catalog.deps import CatalogDep
from kurobara.catalog.schemas import (
    CatalogEntryRead,
    CatalogIndexRead,
    CatalogPageRead,
    CatalogQuery,
)
from kurobara.db.deps import SessionDep
from kurobara.monitoring.deps import ClockDep, SettingsDep
from kurobara.users.deps import AdminUser, CurrentUser

catalog_router = APIRouter(prefix="/catalog", tags=["catalog"])


def _refused(exc: service.CatalogError) -> HTTPException:
    code = 404 if isinstance(exc, service.EntryNotFound) else status.HTTP_409_CONFLICT
    return HTTPException(code, detail=str(exc))


@catalog_router.get("/", response_model=CatalogPageRead)
async def list_catalog(
    user: CurrentUser,
    db_session: SessionDep,
    catalog: CatalogDep,
    query: Annotated[CatalogQuery, Query()],
) -> CatalogPageRead:
    """Catalog entries (bundled and from ``KUROBARA_CATALOG_URLS``) with their state:
    ``available``, ``enabled`` or ``configured`` (a provider of the server's configuration)."""
    found = await service.list_catalog(
        db_session=db_session, sources=catalog.sources, registry=catalog.registry,
        flt=query.filter(), page=query.page, limit=query.limit,
    )  # fmt: skip
    return CatalogPageRead(
        items=[CatalogEntryRead.of(view) for view in found.items],
        total=found.total, page=query.page, limit=query.limit, languages=found.languages,
        kinds=found.kinds, bundled=found.bundled,
        indexes=[CatalogIndexRead.of(row, url) for url, row in found.indexes],
    )  # fmt: skip


@catalog_router.post("/{entry_id}/enable", response_model=CatalogEntryRead)
async def enable_entry(
    entry_id: str,
    admin: AdminUser,
    db_session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> CatalogEntryRead:
    """Make a catalog entry a provider: listed, searched and checked by the monitor."""
    try:
        view = await service.enable_entry(
            db_session=db_session, sources=catalog.sources, registry=catalog.registry,
            http=catalog.http, entry_id=entry_id, admin_id=admin.id,
            max_consecutive_failures=settings.max_consecutive_failures, now=clock.now(),
        )  # fmt: skip
    except service.CatalogError as exc:
        raise _refused(exc) from exc
    return CatalogEntryRead.of(view)


@catalog_router.post("/{entry_id}/disable", response_model=CatalogEntryRead)
async def disable_entry(
    entry_id: str,
    admin: AdminUser,
    db_session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> CatalogEntryRead:
    """Stop using a catalog entry: no longer listed, searched or checked; its history stays."""
    try:
        view = await service.disable_entry(
            db_session=db_session, sources=catalog.sources, registry=catalog.registry,
            entry_id=entry_id, max_consecutive_failures=settings.max_consecutive_failures,
            now=clock.now(),
        )  # fmt: skip
    except service.CatalogError as exc:
        raise _refused(exc) from exc
    return CatalogEntryRead.of(view)


@catalog_router.post("/refresh", response_model=list[CatalogIndexRead])
async def refresh_indexes(
    admin: AdminUser, db_session: SessionDep, catalog: CatalogDep
) -> list[CatalogIndexRead]:
    """Fetch every ``KUROBARA_CATALOG_URLS`` index now instead of at its daily refresh."""
    await catalog.refresh(force=True)
    rows = await service.list_indexes(db_session=db_session, urls=catalog.sources.urls)
    found = {row.url: row for row in rows}
    return [CatalogIndexRead.of(found.get(url), url) for url in catalog.sources.urls]
