"""Fixtures of the library tests: catalog rows made directly in the database."""

from __future__ import annotations

import pytest

from kurobara.db.engine import Database
from tests.factories import MangaFactory


@pytest.fixture
def manga(db: Database) -> MangaFactory:
    return MangaFactory(db)
