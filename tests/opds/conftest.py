"""Fixtures of the OPDS tests: the reading tests' fake MangaDex site and personas, and a reader
app signed in as alice with her password (HTTP Basic, as KOReader and Panels send it)."""

from __future__ import annotations

import httpx
import pytest

from kurobara.db.engine import Database
from tests.factories import PASSWORD, MangaFactory, Persona
from tests.opds.client import OpdsReader, basic
from tests.reading.conftest import alice, bob, healthy_site, settings_overrides, site

__all__ = ["alice", "bob", "healthy_site", "settings_overrides", "site"]


@pytest.fixture
def reader(client: httpx.AsyncClient, alice: Persona) -> OpdsReader:
    return OpdsReader(client, basic(alice.username, PASSWORD))


@pytest.fixture
def manga_factory(db: Database) -> MangaFactory:
    return MangaFactory(db)
