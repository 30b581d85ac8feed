"""The browser session: cookies, CSRF, the signed-in user of a page, and safe redirects.

The session cookie holds the same JWT the API hands out, so one token format serves both; the
CSRF cookie is readable by scripts on purpose (``static/js/api.js`` echoes it in a header).
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response

from kurobara.db.deps import SessionDep
from kurobara.users.deps import CSRF_COOKIE, SESSION_COOKIE, csrf_ok, optional_user
from kurobara.users.models import User
from kurobara.users.security import create_access_token

FLASH_COOKIE = "kurobara_flash"
CSRF_STATE = "kurobara_csrf_token"


class LoginRequired(Exception):
    """A page needs a signed-in user; answered with a redirect to the login page."""

    def __init__(self, next_url: str | None) -> None:
        super().__init__("login required")
        self.next_url = next_url


class CsrfRefused(Exception):
    """A form arrived without the CSRF token that matches the cookie; answered with a 403 page."""


def is_secure(request: Request) -> bool:
    # Behind a TLS-terminating proxy in KUROBARA_TRUSTED_PROXIES, X-Forwarded-Proto makes
    # this "https" as well.
    return request.url.scheme == "https"


def cookie_path(request: Request) -> str:
    return (request.scope.get("root_path") or "") + "/"


def csrf_token(request: Request) -> str:
    """The token this request's forms must carry: the cookie's, or a new one that the response
    will set (see ``commit_csrf_cookie``)."""
    token: str | None = getattr(request.state, CSRF_STATE, None) or request.cookies.get(CSRF_COOKIE)
    if not token:
        token = secrets.token_urlsafe(32)
    setattr(request.state, CSRF_STATE, token)
    return token


def commit_csrf_cookie(request: Request, response: Response) -> None:
    token = getattr(request.state, CSRF_STATE, None)
    if token and token != request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE,
            token,
            path=cookie_path(request),
            secure=is_secure(request),
            httponly=False,
            samesite="lax",
        )


def sign_in(request: Request, response: Response, user: User) -> None:
    """Set the session cookie and rotate the CSRF token, so a token planted before login is
    worthless after it."""
    settings = request.app.state.settings
    token = create_access_token(
        user_id=user.id,
        hashed_password=user.hashed_password,
        secret=request.app.state.secret_key,
        minutes=settings.access_token_minutes,
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.access_token_minutes * 60,
        path=cookie_path(request),
        secure=is_secure(request),
        httponly=True,
        samesite="lax",
    )
    setattr(request.state, CSRF_STATE, secrets.token_urlsafe(32))
    commit_csrf_cookie(request, response)


def sign_out(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=cookie_path(request), secure=is_secure(request), httponly=True
    )
    setattr(request.state, CSRF_STATE, secrets.token_urlsafe(32))
    commit_csrf_cookie(request, response)


def set_flash(request: Request, response: Response, code: str) -> None:
    """Remember a message for the next page. Only a code travels; the text comes from
    ``pages.FLASH_MESSAGES``, so a crafted cookie cannot put words on the page."""
    response.set_cookie(
        FLASH_COOKIE,
        code,
        max_age=60,
        path=cookie_path(request),
        secure=is_secure(request),
        httponly=True,
        samesite="lax",
    )


def safe_next(value: str | None) -> str | None:
    """Accept only a same-site path: ``/settings?x=1`` yes; ``https://evil``, ``//evil``,
    ``/\\evil`` (browsers read a backslash as a slash) and ``javascript:`` no."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    if any(ord(char) < 0x20 or char == "\\" for char in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def login_url(request: Request, next_url: str | None) -> str:
    url = str(request.app.url_path_for("web:login"))
    if next_url:
        url += "?next=" + quote(next_url, safe="/")
    return (request.scope.get("root_path") or "") + url


async def require_csrf(request: Request) -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS") and not await csrf_ok(request):
        raise CsrfRefused


async def page_user(request: Request, db_session: SessionDep) -> User | None:
    """The user of the session cookie, or None. Web pages ignore bearer tokens: a browser page
    is a cookie session or nothing."""
    try:
        return await optional_user(request, db_session, None)
    except HTTPException as exc:
        # optional_user refuses a cookie-authenticated write without the CSRF token.
        raise CsrfRefused from exc


async def signed_in_user(
    request: Request, user: Annotated[User | None, Depends(page_user)]
) -> User:
    if user is None:
        # After a POST there is no page to come back to; the login then goes home.
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(safe_next(target) if request.method == "GET" else None)
    return user


PageUser = Annotated[User | None, Depends(page_user)]
SignedInUser = Annotated[User, Depends(signed_in_user)]
CsrfChecked = Depends(require_csrf)
