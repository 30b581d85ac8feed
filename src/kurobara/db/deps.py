"""FastAPI dependencies for the database: one ``AsyncSession`` per request.

An endpoint marked ``@read_only`` gets the database's read session (on PostgreSQL: autocommit,
no ``BEGIN``/``ROLLBACK`` around its queries). Only endpoints that never write may be marked:
the mark is checked where the session is made, from the route the request matched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.db.engine import Database

F = TypeVar("F", bound=Callable[..., Any])
READ_ONLY = "__kurobara_read_only__"


def read_only(endpoint: F) -> F:
    """Mark an endpoint that only reads: its request session is the read session."""
    setattr(endpoint, READ_ONLY, True)
    return endpoint


def get_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database = get_database(request)
    endpoint = request.scope.get("endpoint")
    opened = database.read_session if getattr(endpoint, READ_ONLY, False) else database.session
    async with opened() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
DatabaseDep = Annotated[Database, Depends(get_database)]
