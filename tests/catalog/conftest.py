"""Catalog fixtures: a fake community index on loopback, a manual clock in the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI

from kurobara.catalog.jobs import CatalogJob
from kurobara.config import Settings
from kurobara.providers.fakes.catalog_index import FakeCatalogIndex, offline_entries
from tests.conftest import running_app
from tests.monitoring.conftest import ManualClock


@pytest.fixture(scope="module")
def index_server() -> Iterator[FakeCatalogIndex]:
    server = FakeCatalogIndex().start()
    yield server
    server.stop()


@pytest.fixture
def index(index_server: FakeCatalogIndex) -> Iterator[FakeCatalogIndex]:
    """The module's fake index, reset for each test: six offline Madara entries."""
    index_server.entries = offline_entries(6)
    index_server.fault = "ok"
    index_server.fetches = 0
    return index_server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[FastAPI]:
    async with running_app(settings, clock=clock) as application:
        yield application


@pytest.fixture
def job(app: FastAPI) -> CatalogJob:
    catalog: CatalogJob = app.state.catalog
    return catalog
