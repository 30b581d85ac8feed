"""Route matching that skips the routers a path cannot reach.

FastAPI (0.140 and later) keeps every ``include_router`` as a branch and, for each request,
asks every branch in turn whether one of its routes matches, route by route, and asks the
chosen branch again to handle it. With this app's forty routers that was about a hundred route
matches per request: 0.5 ms of CPU for ``/healthz`` and a fifth of a favorite-status request
(docs/benchmarks.md, "Route matching").

``install`` puts a guard in front of each branch: the literal start that every path of the
branch shares (``/api/v1/favorites`` for the favorites router; a path parameter ends it). A
request path that does not start with it cannot match any route of the branch, so the branch
answers "no match" at once; every other request is matched by FastAPI exactly as before
(404, 405 and the trailing-slash redirect included). A branch with a route whose path this
cannot read (none in this app) is never skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette._utils import get_route_path  # the path the routes themselves match
from starlette.routing import Match
from starlette.types import Scope

logger = logging.getLogger("kurobara.routing")

try:  # the branches are FastAPI's own, private class: without it there is nothing to guard
    from fastapi.routing import _IncludedRouter as Branch
except ImportError:  # pragma: no cover - a FastAPI without branches matches flat lists
    Branch = None  # type: ignore[assignment,misc]

_HEAD = "_kurobara_literal_head"
_GUARDED = "_kurobara_guarded"


def literal_start(path: str) -> str:
    """The part of a route path before its first parameter (all of it without one)."""
    cut = path.find("{")
    return path if cut < 0 else path[:cut]


def shared_start(strings: list[str]) -> str:
    """The longest string every one of ``strings`` starts with, character by character."""
    first, last = min(strings), max(strings)
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return first[:size]


def _route_start(candidate: Any) -> str | None:
    if Branch is not None and isinstance(candidate, Branch):
        return branch_start(candidate)
    path = getattr(candidate, "path", "") or getattr(candidate.starlette_route, "path", "")
    return literal_start(path) if isinstance(path, str) and path.startswith("/") else None


def branch_start(branch: Any) -> str | None:
    """What every path of the branch starts with, or ``None`` when that cannot be told (then
    the branch is always asked). Kept per branch until its routes change."""
    version = branch.original_router._get_routes_version()
    cached = getattr(branch, _HEAD, None)
    if cached is not None and cached[0] == version:
        head: str | None = cached[1]
        return head
    starts = [_route_start(candidate) for candidate in branch.effective_candidates()]
    head = None
    if starts and all(start is not None for start in starts):
        head = shared_start([start for start in starts if start is not None]) or None
    setattr(branch, _HEAD, (version, head))
    return head


def install() -> bool:
    """Guard FastAPI's branches (once per process); ``False`` when this FastAPI has none."""
    if Branch is None:
        return False
    if getattr(Branch, _GUARDED, False):
        return True
    ask: Callable[[Any, Scope], tuple[Match, Scope]] = Branch.matches

    def matches(self: Any, scope: Scope) -> tuple[Match, Scope]:
        head = branch_start(self)
        if head is not None and not get_route_path(scope).startswith(head):
            return Match.NONE, {}
        return ask(self, scope)

    Branch.matches = matches  # type: ignore[method-assign]
    setattr(Branch, _GUARDED, True)
    logger.debug("route branches guarded by their literal start")
    return True
