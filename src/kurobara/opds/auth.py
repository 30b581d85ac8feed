"""Who is asking for a feed: e-reader apps send HTTP Basic with every request (the password, or a
personal access token as the password), scripts a Bearer token; a browser signed in to the UI
brings its session cookie.

A password is checked with argon2, which is meant to be slow, and an app asks for every page of
a chapter with the same credentials. So a credential that verified is remembered for a few
minutes (``CredentialCache``), keyed by a keyed hash of the pair, never the password itself. A
hit is honoured only while the account is active and its password hash unchanged, so disabling
a user or changing the password locks the app out at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.db.deps import SessionDep
from kurobara.users import service as user_service
from kurobara.users import tokens as token_service
from kurobara.users.deps import (
    SESSION_COOKIE,
    optional_user,
    personal_token_user,
    secret_key,
    too_many_attempts,
)
from kurobara.users.models import User
from kurobara.users.routes import client_host, login_throttle
from kurobara.users.security import password_fingerprint
from kurobara.users.throttle import LoginThrottle

REALM = "Kurobara OPDS"
CREDENTIAL_TTL_SECONDS = 300.0
CREDENTIAL_CACHE_SIZE = 1024


class OpdsUnauthorized(HTTPException):
    def __init__(self, detail: str = "Sign in with your username and password or a token") -> None:
        super().__init__(
            status.HTTP_401_UNAUTHORIZED,
            detail=detail,
            headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
        )


@dataclass(frozen=True)
class _Verified:
    user_id: uuid.UUID
    fingerprint: str
    expires: float


class CredentialCache:
    """Username/password pairs that verified lately, bounded in size and age."""

    def __init__(
        self,
        *,
        ttl_seconds: float = CREDENTIAL_TTL_SECONDS,
        size: int = CREDENTIAL_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[str, _Verified] = OrderedDict()

    @staticmethod
    def key(secret: str, username: str, password: str) -> str:
        message = f"{username.lower()}\x00{password}".encode()
        return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()

    def get(self, key: str) -> _Verified | None:
        found = self._entries.get(key)
        if found is None or found.expires <= self.clock():
            self._entries.pop(key, None)
            return None
        return found

    def put(self, key: str, user: User) -> None:
        fingerprint = password_fingerprint(user.hashed_password)
        expires = self.clock() + self.ttl_seconds
        self._entries[key] = _Verified(user.id, fingerprint, expires)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


def parse_basic(header: str) -> tuple[str, str] | None:
    """The (username, password) of an ``Authorization: Basic`` value; None when malformed."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon and username else None


def get_credentials(request: Request) -> CredentialCache:
    cache: CredentialCache = request.app.state.opds_credentials
    return cache


async def _password_user(
    request: Request,
    db_session: AsyncSession,
    throttle: LoginThrottle,
    cache: CredentialCache,
    username: str,
    password: str,
) -> User:
    key = cache.key(secret_key(request), username, password)
    remembered = cache.get(key)
    if remembered is not None:
        user = await user_service.get(db_session=db_session, user_id=remembered.user_id)
        if (
            user is not None
            and user.is_active
            and hmac.compare_digest(
                remembered.fingerprint, password_fingerprint(user.hashed_password)
            )
        ):
            return user
    try:
        user = await user_service.login(
            db_session=db_session,
            throttle=throttle,
            username=username,
            password=password,
            client=client_host(request),
        )
    except user_service.LoginThrottled as exc:
        raise too_many_attempts(exc) from exc
    except user_service.InvalidCredentials as exc:
        raise OpdsUnauthorized(str(exc)) from exc
    cache.put(key, user)
    return user


async def opds_user(
    request: Request,
    db_session: SessionDep,
    throttle: Annotated[LoginThrottle, Depends(login_throttle)],
    cache: Annotated[CredentialCache, Depends(get_credentials)],
) -> User:
    """The user behind a feed request, or a 401 that makes an OPDS app ask for credentials."""
    header = request.headers.get("authorization")
    if header is None:
        if request.cookies.get(SESSION_COOKIE):
            user = await optional_user(request, db_session, None)
            if user is not None:
                return user
        raise OpdsUnauthorized()
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        user = await optional_user(request, db_session, value.strip())
        if user is None:
            raise OpdsUnauthorized("The token is unknown, revoked or expired")
        return user
    pair = parse_basic(header)
    if pair is None:
        raise OpdsUnauthorized("Send HTTP Basic (username and password) or a Bearer token")
    username, password = pair
    if token_service.is_personal_token(password):
        user = await personal_token_user(request, db_session, password)
        if user is None or user.username.lower() != username.lower():
            raise OpdsUnauthorized("The token is unknown, revoked, or not this user's")
        return user
    return await _password_user(request, db_session, throttle, cache, username, password)


OpdsUser = Annotated[User, Depends(opds_user)]
