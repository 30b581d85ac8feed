"""Writes of one user racing each other: overlapping bulk updates (two tabs) and add/edit racing
remove. Every answer is a success or a 404, never a 500, on both databases."""

from __future__ import annotations

import asyncio
import random

import httpx

from tests.factories import MangaFactory, UserFactory

BULK = "/api/v1/favorites/bulk"


def _statuses(responses: list[httpx.Response | BaseException]) -> list[int | str]:
    """Status codes; an exception the app raised (a 500 through ASGITransport) by its name."""
    return [r.status_code if isinstance(r, httpx.Response) else type(r).__name__ for r in responses]


async def test_overlapping_bulk_updates_in_opposite_orders_all_succeed(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    ids = [str(m.id) for m in await manga.create_many(60)]
    requests = [
        client.patch(
            BULK,
            json={"manga_ids": ids if n % 2 else ids[::-1], "is_favorite": n % 4 < 2},
            headers=bob.headers,
        )
        for n in range(40)
    ]
    responses = await asyncio.gather(*requests, return_exceptions=True)
    assert set(_statuses(responses)) == {200}, _statuses(responses)


async def test_add_and_edit_racing_remove_answer_success_or_404(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    made = await manga.create_many(3)
    calls = []
    rng = random.Random(9)
    for _ in range(120):
        path = f"/api/v1/library/{rng.choice(made).id}"
        calls.append(
            rng.choice(
                [
                    lambda p=path: client.post(p, json={"notes": "n"}, headers=bob.headers),
                    lambda p=path: client.patch(p, json={"rating": 4}, headers=bob.headers),
                    lambda p=path: client.post(
                        p.replace("library", "favorites"), headers=bob.headers
                    ),
                    lambda p=path: client.delete(p, headers=bob.headers),
                ]
            )
        )
    responses = await asyncio.gather(*(call() for call in calls), return_exceptions=True)
    assert set(_statuses(responses)) <= {200, 204, 404}, _statuses(responses)
    for response in responses:
        assert isinstance(response, httpx.Response)
        if response.request.method in ("POST", "PATCH") and response.status_code == 200:
            assert response.json()["manga"]["id"] in str(response.request.url)
