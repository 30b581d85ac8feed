"""The Downloads page: the caller's queue with progress, delete and the CBZ links.
``static/js/downloads.js`` reads and changes it through ``/api/v1/downloads`` (the API's own
routes, no separate form handlers)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kurobara.web.pages import render
from kurobara.web.session import SignedInUser

router = APIRouter(include_in_schema=False)


@router.get("/downloads", name="web:downloads")
async def downloads_page(request: Request, user: SignedInUser) -> Response:
    return render(request, "downloads.html", user=user)
