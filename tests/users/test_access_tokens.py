"""Access tokens: a token verified once is answered from memory afterwards, and memory changes
none of the answers (expiry, another secret, a forged signature)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kurobara.users import security
from kurobara.users.security import InvalidToken, create_access_token, decode_access_token

SECRET = "a-secret-for-these-tests-only-0123456789"
USER = uuid.UUID("3f0c6a52-8d7e-4c55-9f5a-0e1d2c3b4a59")


def _token(*, minutes: int = 60, issued: datetime | None = None) -> str:
    return create_access_token(
        user_id=USER, hashed_password="$argon2id$hash", secret=SECRET, minutes=minutes, now=issued
    )


def test_a_token_answers_the_same_from_memory() -> None:
    token = _token()
    first = decode_access_token(token, secret=SECRET)
    assert first == (USER, security.password_fingerprint("$argon2id$hash"))
    assert decode_access_token(token, secret=SECRET) == first


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    issued = datetime.now(UTC) - timedelta(minutes=59)
    token = _token(issued=issued)
    decode_access_token(token, secret=SECRET)
    expires = (issued + timedelta(minutes=60)).timestamp()
    monkeypatch.setattr(security, "_now", lambda: expires)
    with pytest.raises(InvalidToken, match="expired"):
        decode_access_token(token, secret=SECRET)
    monkeypatch.setattr(security, "_now", lambda: expires - 1)  # forgotten, checked afresh
    decode_access_token(token, secret=SECRET)


def test_a_remembered_token_is_not_good_under_another_secret() -> None:
    token = _token()
    decode_access_token(token, secret=SECRET)
    with pytest.raises(InvalidToken):
        decode_access_token(token, secret=SECRET + "-rotated")


def test_a_forged_signature_is_refused_every_time() -> None:
    header, claims, _ = _token().split(".")
    forged = f"{header}.{claims}.{'A' * 43}"
    for _ in range(2):
        with pytest.raises(InvalidToken):
            decode_access_token(forged, secret=SECRET)
    assert (forged, SECRET) not in security._VERIFIED


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "VERIFIED_MAX", 3)
    monkeypatch.setattr(security, "_VERIFIED", {})
    for minutes in range(10, 20):
        decode_access_token(_token(minutes=minutes), secret=SECRET)
        assert len(security._VERIFIED) <= 3
