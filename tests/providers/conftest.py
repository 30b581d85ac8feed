"""Fixtures shared by the provider kind tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kurobara.providers.http import HttpClient

# Short, so that every fault (a hung site included) is classified quickly.
TIMEOUT = 1.0


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(user_agent="kurobara-tests", timeout=TIMEOUT)
    yield client
    await client.aclose()
