"""Fixtures shared by the provider kind tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeVar

import pytest

from kurobara.providers.base import Provider
from kurobara.providers.fakes.server import FakeSite
from kurobara.providers.http import HttpClient
from kurobara.providers.registry import parse_definition

# Generous: on a loaded machine a loopback answer can take seconds, which is no fault.
TIMEOUT = 15.0
# Short, for the tests that wait a hung site out, so that they give up quickly.
HUNG_TIMEOUT = 1.0


@pytest.fixture
def http_timeout() -> float:
    """The client's timeout; a test of a hung site parametrizes it to ``HUNG_TIMEOUT``."""
    return TIMEOUT


@pytest.fixture
async def http(http_timeout: float) -> AsyncIterator[HttpClient]:
    client = HttpClient(user_agent="kurobara-tests", timeout=http_timeout)
    yield client
    await client.aclose()


P = TypeVar("P", bound=Provider)


def make_provider(kind: type[P], site: FakeSite, http: HttpClient, **overrides: Any) -> P:
    """The provider of ``kind`` for a fake site, built from its definition as the registry
    builds it (so the kind's parameters are validated the same way)."""
    definition, cls = parse_definition(site.definition(**overrides), source="test", index=1)
    assert cls is kind
    return kind(definition, http)
