"""Rendering pages: the Jinja2 environment, the navigation, flash messages and the headers every
HTML response carries.

Adding a page to the navigation is one ``NavItem`` in ``NAV``; the first entry a user may see is
also where ``/`` and a login without ``next`` lead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kurobara import __version__
from kurobara.providers.wording import in_words
from kurobara.users.models import User
from kurobara.web.session import FLASH_COOKIE, commit_csrf_cookie, cookie_path, csrf_token

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATES_DIR = WEB_DIR / "templates"


@dataclass(frozen=True)
class NavItem:
    label: str
    route: str  # route name ("web:…"), resolved with url_path_for
    icon: str  # symbol id in templates/_icons.html
    admin_only: bool = False


# Order is the order in the header. Search, Library, Favorites and Providers join here when
# their APIs land.
NAV: tuple[NavItem, ...] = (
    NavItem("Search", "web:search", "search"),
    NavItem("Library", "web:library", "library"),
    NavItem("Favorites", "web:favorites", "star"),
    NavItem("Updates", "web:updates", "bell"),
    NavItem("History", "web:history", "history"),
    NavItem("Downloads", "web:downloads", "download"),
    NavItem("Providers", "web:providers", "server"),
    NavItem("Settings", "web:settings", "gear"),
    NavItem("Sources", "web:sources", "sliders", admin_only=True),
    NavItem("Users", "web:users", "user", admin_only=True),
)

# Flash messages travel as codes (see session.set_flash); (kind, text).
FLASH_MESSAGES: dict[str, tuple[str, str]] = {
    "welcome": ("success", "Welcome to Kurobara! Your account is ready."),
    "logged-out": ("info", "You are logged out."),
    "password-changed": ("success", "Password changed. Other devices have been signed out."),
    "interval-saved": ("success", "Check interval saved."),
    "user-disable": ("success", "User disabled; their sessions and tokens stopped working."),
    "user-enable": ("success", "User enabled."),
    "user-promote": ("success", "User promoted to admin."),
    "user-demote": ("success", "Admin rights removed."),
    "user-delete": ("success", "User deleted with their library and tokens."),
    "user-password": ("success", "Password reset. The user's sessions were signed out."),
    "registration-saved": ("success", "Registration setting saved."),
    "invitation-revoked": ("info", "Invitation revoked."),
    "token-revoked": ("info", "Token revoked; it no longer works."),
    "catalog-enable": ("success", "Source enabled: it is on the Providers page and checked now."),
    "catalog-disable": ("info", "Source disabled: no longer searched or checked."),
    "catalog-refreshed": ("success", "Catalog indexes fetched."),
    "migration-accepted": ("success", "Migrated: the new source is linked and yours to read from."),
    "migrations-accepted": ("success", "The best matches above the score were accepted."),
    "migrations-none": ("info", "No series had a usable match at or above that score."),
}

# Same-origin everything; covers may come from provider sites, hence any https image.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: https:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@cache
def _templates() -> Jinja2Templates:
    # Jinja2 is imported with the first page, not at start-up: serving the API never needs it.
    from fastapi.templating import Jinja2Templates

    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    # ``error_words``: a raw provider/OS error said in words (the raw text goes in a <details>).
    templates.env.globals.update(url_path=url_path, static_url=static_url, error_words=in_words)
    return templates


@cache
def _static_version(path: str) -> str:
    file = (STATIC_DIR / path).resolve()
    if not file.is_relative_to(STATIC_DIR.resolve()) or not file.is_file():
        return __version__
    return hashlib.sha256(file.read_bytes()).hexdigest()[:12]


def url_path(request: Request, name: str, **params: Any) -> str:
    """A root-relative URL for a route, respecting a reverse-proxy prefix (``root_path``)."""
    return (request.scope.get("root_path") or "") + str(request.app.url_path_for(name, **params))


def static_url(request: Request, path: str) -> str:
    """A cache-busting URL: the content hash in the query lets the browser keep the file for a
    year (see ``CachedStaticFiles``) and still see a new release at once."""
    return url_path(request, "static", path=path) + f"?v={_static_version(path)}"


def visible_nav(user: User | None) -> list[NavItem]:
    if user is None:
        return []
    return [item for item in NAV if user.is_superuser or not item.admin_only]


def home_url(request: Request, user: User | None) -> str:
    items = visible_nav(user)
    return url_path(request, items[0].route) if items else url_path(request, "web:login")


def _take_flash(request: Request) -> dict[str, str] | None:
    code = request.cookies.get(FLASH_COOKIE)
    if code not in FLASH_MESSAGES:
        return None
    kind, text = FLASH_MESSAGES[code]
    return {"kind": kind, "text": text}


def render(
    request: Request,
    template: str,
    *,
    user: User | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page with what the layout needs: user, navigation, CSRF token, flash."""
    flash = _take_flash(request)
    response = _templates().TemplateResponse(
        request,
        template,
        {
            "user": user,
            "nav": visible_nav(user),
            "csrf_token": csrf_token(request),
            "flash": flash,
            "version": __version__,
            **context,
        },
        status_code=status_code,
    )
    commit_csrf_cookie(request, response)
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path=cookie_path(request))
    _secure_headers(response)
    return response


def redirect(url: str) -> RedirectResponse:
    # 303 so that a form POST is followed by a GET of the target.
    response = RedirectResponse(url, status_code=303)
    _secure_headers(response)
    return response


def _secure_headers(response: HTMLResponse | RedirectResponse) -> None:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    # Pages show per-user data; shared caches must not keep them.
    response.headers["Cache-Control"] = "no-store"
