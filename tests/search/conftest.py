"""Fixtures of the search tests: three fake MangaDex sites (module-wide, faults cleared after
each test) and a fourth definition, disabled, on the first site."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from tests.factories import Persona, UserFactory, write_providers_file

# Healthy sites must answer within it on CI's loaded machine (2 s was too little: a search
# there came back with no results at all); tests of a slow site wait it out.
SEARCH_TIMEOUT = 5.0
NAMES = ("alpha", "beta", "gamma")
# A ``slow`` site answers after this long: ten times the search timeout, so that a test can tell
# "given up at the deadline" from "waited out" by the wall clock even on a loaded machine.
SLOW_SECONDS = 50.0


@pytest.fixture(scope="module")
def sites() -> Iterator[dict[str, FakeMangaDexSite]]:
    running = {
        name: FakeMangaDexSite(name=name, slow_seconds=SLOW_SECONDS).start() for name in NAMES
    }
    yield running
    for site in running.values():
        site.stop()


@pytest.fixture
def healthy_sites(sites: dict[str, FakeMangaDexSite]) -> Iterator[None]:
    yield
    for site in sites.values():
        site.slow_seconds = SLOW_SECONDS
        site.set_fault("ok")


@pytest.fixture
def settings_overrides(sites: dict[str, FakeMangaDexSite], tmp_path: Path) -> dict[str, object]:
    definitions = [site.definition() for site in sites.values()]
    definitions.append(sites["alpha"].definition("delta", enabled=False))
    return {
        "providers_file": write_providers_file(tmp_path / "providers.yaml", definitions),
        "search_timeout": SEARCH_TIMEOUT,
    }


@pytest.fixture
async def user(users: UserFactory) -> Persona:
    """Any signed-in account may search; the first one registered is the cheapest to make."""
    return await users.alice()
