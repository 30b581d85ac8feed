"""Validation messages are words: a 422 keeps its shape, and its ``msg`` names the allowed
characters instead of showing the regular expression."""

from __future__ import annotations

import httpx


async def test_a_username_with_a_space_is_refused_in_words(client: httpx.AsyncClient) -> None:
    body = {"username": "bad name", "email": "x@example.org", "password": "a-long-password-1"}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "username"]
    assert error["type"] == "string_pattern_mismatch"
    assert error["msg"] == "May contain only letters, digits, dots, dashes and underscores"
    assert "^" not in error["msg"]


async def test_the_register_page_says_it_in_words_too(client: httpx.AsyncClient) -> None:
    page = await client.get("/register")
    token = page.cookies.get("kurobara_csrf") or client.cookies.get("kurobara_csrf")
    form = {"username": "bad name", "email": "x@example.org", "password": "a-long-password-1"}
    response = await client.post("/register", data={**form, "csrf_token": token or ""})
    assert response.status_code == 422
    assert "May contain only letters, digits" in response.text
    assert "[A-Za-z" not in response.text
