"""The server-rendered UI: Jinja2 pages, one stylesheet and small ES modules, no build step.

``install(app)`` adds it to an application: the page routes, ``/static`` and the handlers that
turn "log in first" and "CSRF token missing" into a redirect and a page instead of JSON.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from kurobara.web.admin_pages import NotAdmin, not_admin_page
from kurobara.web.admin_pages import router as admin_pages_router
from kurobara.web.browse import router as browse_router
from kurobara.web.catalog_pages import router as catalog_pages_router
from kurobara.web.dashboard import router as dashboard_router
from kurobara.web.discover_pages import router as discover_pages_router
from kurobara.web.downloads_pages import router as downloads_pages_router
from kurobara.web.migrate_pages import router as migrate_pages_router
from kurobara.web.pages import STATIC_DIR, redirect, render
from kurobara.web.routes import router
from kurobara.web.session import CsrfRefused, LoginRequired, login_url
from kurobara.web.updates_pages import router as updates_pages_router
from kurobara.web.upload_pages import router as upload_pages_router

__all__ = ["install"]


class CachedStaticFiles(StaticFiles):
    """Static files with a Cache-Control header. URLs made by ``static_url`` carry a content
    hash, so those are immutable for a year; anything else (an ES module imported by a relative
    path) is revalidated after a short while through its ETag."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            versioned = b"v=" in scope.get("query_string", b"")
            response.headers["Cache-Control"] = (
                "public, max-age=31536000, immutable" if versioned else "public, max-age=300"
            )
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return redirect(login_url(request, exc.next_url))


async def _csrf_refused(request: Request, exc: Exception) -> Response:
    return render(request, "error.html", user=None, status_code=403, reason="csrf")


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(browse_router)
    app.include_router(dashboard_router)
    app.include_router(discover_pages_router)
    app.include_router(updates_pages_router)
    app.include_router(migrate_pages_router)
    app.include_router(upload_pages_router)
    app.include_router(downloads_pages_router)
    app.include_router(admin_pages_router)
    app.include_router(catalog_pages_router)
    app.mount("/static", CachedStaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    app.add_exception_handler(NotAdmin, not_admin_page)
