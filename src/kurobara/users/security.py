"""Password hashing (argon2id) and access tokens (JWT, HS256).

A token carries a fingerprint of the password hash, so changing the password signs every
earlier token out. The hashing cost comes from the settings (``configure_password_hashing``,
called by the app and the CLI); argon2 writes the cost into each hash, so hashes made with
other costs still verify.
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta

import anyio
import jwt
from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

from kurobara.config import Settings

ALGORITHM = "HS256"
# argon2-cffi's defaults equal the settings' defaults, until the settings say otherwise.
_hasher = PasswordHasher()


def configure_password_hashing(settings: Settings) -> None:
    """Hash new passwords with the settings' argon2id cost, in this whole process."""
    global _hasher
    _hasher = PasswordHasher(
        time_cost=settings.password_hash_time_cost,
        memory_cost=settings.password_hash_memory_kib,
        parallelism=settings.password_hash_parallelism,
    )


@functools.cache
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    # Verified against when the username does not exist, so that the response time does not
    # tell; made with the current cost, since the cost is what the time depends on.
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    return hasher.hash("kurobara-timing-equaliser")


async def hash_password(password: str) -> str:
    # argon2 is deliberately slow; keep it off the event loop.
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password: str, hashed: str | None) -> bool:
    hasher = _hasher

    def verify() -> bool:
        against = hashed or _dummy_hash(hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        try:
            return hasher.verify(against, password) and hashed is not None
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(verify)


def hash_is_weaker(hashed: str) -> bool:
    """Whether a stored hash costs less memory or time than new hashes do now (the cost was
    raised since it was made), so that a login should store the password anew."""
    try:
        stored = extract_parameters(hashed)
    except InvalidHashError:
        return False
    return stored.memory_cost < _hasher.memory_cost or stored.time_cost < _hasher.time_cost


def password_fingerprint(hashed: str) -> str:
    return hashlib.sha256(hashed.encode()).hexdigest()[:16]


def create_access_token(
    *,
    user_id: uuid.UUID,
    hashed_password: str,
    secret: str,
    minutes: int,
    now: datetime | None = None,
) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(minutes=minutes)).timestamp()),
        "pwv": password_fingerprint(hashed_password),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class InvalidToken(Exception):
    """The token is malformed, expired or not ours."""


# Tokens this process has verified, with their claims: a client sends the same token with
# every request, and its signature check and parsing were a fifth of a favorite-status
# request's CPU. Only verified tokens enter (a forged one costs a check each time); the expiry
# is still checked on every use; the memo starts over when full.
_VERIFIED: dict[tuple[str, str], tuple[uuid.UUID, str, float]] = {}
VERIFIED_MAX = 4096
_now = time.time


def decode_access_token(token: str, *, secret: str) -> tuple[uuid.UUID, str]:
    """Return (user id, password fingerprint) or raise ``InvalidToken``."""
    known = _VERIFIED.get((token, secret))
    if known is not None:
        user_id, fingerprint, expires = known
        if expires <= _now():  # what PyJWT decides: a token expires at its ``exp``
            del _VERIFIED[(token, secret)]
            raise InvalidToken("Signature has expired")
        return user_id, fingerprint
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
        user_id, fingerprint = uuid.UUID(claims["sub"]), str(claims.get("pwv", ""))
        expires = float(claims["exp"])
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
    if len(_VERIFIED) >= VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[(token, secret)] = (user_id, fingerprint, expires)
    return user_id, fingerprint
