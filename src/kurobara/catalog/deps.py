"""FastAPI dependency of the catalog routes and page: this replica's catalog job, which holds
its sources, registry and HTTP client."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kurobara.catalog.jobs import CatalogJob


def get_catalog(request: Request) -> CatalogJob:
    job: CatalogJob = request.app.state.catalog
    return job


CatalogDep = Annotated[CatalogJob, Depends(get_catalog)]
