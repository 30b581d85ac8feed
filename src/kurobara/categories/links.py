"""Putting library entries on categories: the statements the library service runs inside its
own write transactions (nothing here commits). Kept apart from ``service.py`` so the library
service can use it without importing the category routes' logic (and its import of the library).

Errors:
    CategoryNotFound   ids that are not categories of the user (carries ``category_ids``)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.categories.models import Category, entry_categories
from kurobara.categories.schemas import AssignMode


class CategoryNotFound(Exception):
    kind = "category_not_found"

    def __init__(self, category_ids: Sequence[uuid.UUID]) -> None:
        super().__init__(f"unknown category: {', '.join(str(i) for i in category_ids)}")
        self.category_ids = list(category_ids)


async def require_categories(
    *, db_session: AsyncSession, user_id: uuid.UUID, category_ids: Sequence[uuid.UUID]
) -> None:
    """Raise ``CategoryNotFound`` naming every id that is not one of the user's categories
    (another user's category is as unknown as a made-up id)."""
    if not category_ids:
        return
    found = set(
        (
            await db_session.scalars(
                select(Category.id).where(
                    Category.user_id == user_id, Category.id.in_(category_ids)
                )
            )
        ).all()
    )
    if missing := [i for i in category_ids if i not in found]:
        raise CategoryNotFound(missing)


async def assign(
    *,
    db_session: AsyncSession,
    entry_ids: Sequence[uuid.UUID],
    category_ids: Sequence[uuid.UUID],
    mode: AssignMode,
) -> None:
    """Change which categories ``entry_ids`` are on (ids already checked to be the user's)."""
    if not entry_ids:
        return
    table = entry_categories
    if mode in ("move", "remove"):
        stmt = delete(table).where(table.c.entry_id.in_(entry_ids))
        if mode == "remove":
            stmt = stmt.where(table.c.category_id.in_(category_ids))
        await db_session.execute(stmt)
    if mode == "remove" or not category_ids:
        return
    if mode == "add":
        await db_session.execute(
            delete(table).where(
                table.c.entry_id.in_(entry_ids), table.c.category_id.in_(category_ids)
            )
        )
    rows = [
        {"entry_id": entry_id, "category_id": category_id}
        for entry_id in sorted(entry_ids)
        for category_id in category_ids
    ]
    await db_session.execute(table.insert(), rows)
