"""Auth dependencies: the current user from a bearer token (API: a JWT or a personal access
token, see ``users/tokens.py``) or the session cookie (UI).

A request authenticated by cookie that changes something must also carry the CSRF token
(double submit: the ``X-CSRF-Token`` header or a ``csrf_token`` form field equal to the
``kurobara_csrf`` cookie), because browsers attach cookies to cross-site requests.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from kurobara.db.deps import SessionDep
from kurobara.users import service as user_service
from kurobara.users import tokens as token_service
from kurobara.users.cache import UserCache
from kurobara.users.models import User
from kurobara.users.security import InvalidToken, decode_access_token, password_fingerprint

SESSION_COOKIE = "kurobara_session"
CSRF_COOKIE = "kurobara_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)

_UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Not authenticated",
    headers={"WWW-Authenticate": "Bearer"},
)


def too_many_attempts(exc: user_service.LoginThrottled) -> HTTPException:
    """The 429 for a throttled login, with when to try again (``Retry-After``)."""
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=str(exc),
        headers={"Retry-After": str(exc.retry_after)},
    )


def secret_key(request: Request) -> str:
    key: str = request.app.state.secret_key
    return key


async def csrf_ok(request: Request) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie:
        return False
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent, cookie)


async def optional_user(
    request: Request,
    db_session: SessionDep,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
) -> User | None:
    token = bearer or request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    if bearer is not None and token_service.is_personal_token(bearer):
        return await personal_token_user(request, db_session, bearer)
    try:
        user_id, fingerprint = decode_access_token(token, secret=secret_key(request))
    except InvalidToken:
        return None
    cache: UserCache | None = getattr(request.app.state, "user_cache", None)
    user = cache.get(db_session, user_id) if cache is not None else None
    if user is None:
        user = await user_service.get(db_session=db_session, user_id=user_id)
        if user is not None and user.is_active and cache is not None:
            cache.put(user)
    if user is None or not user.is_active:
        return None
    if not hmac.compare_digest(fingerprint, password_fingerprint(user.hashed_password)):
        return None
    if bearer is None and request.method not in SAFE_METHODS and not await csrf_ok(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="CSRF token missing or wrong")
    return user


async def personal_token_user(request: Request, db_session: SessionDep, token: str) -> User | None:
    """The user of a personal access token; a ``read`` token may only read."""
    found = await token_service.authenticate_token(db_session=db_session, token=token)
    if found is None:
        return None
    user, record = found
    if record.scope != "write" and request.method not in SAFE_METHODS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="This token may only read")
    request.state.personal_token = record.id
    return user


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise _UNAUTHORIZED
    return user


async def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_superuser:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Superuser privileges required")
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]
