"""Category logic: create, rename, reorder and delete one user's categories. Every function is
scoped to one user; each write takes the user's library lock first (``lock_counter``), so two
tabs reordering at once queue instead of leaving two categories on one position.

Errors (routes map them to HTTP):
    CategoryNotFound   (``links.py``) not a category of the user
    CategoryExists     the user already has a category of that name
    TooManyCategories  the user has ``MAX_CATEGORIES`` already
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.categories.links import CategoryNotFound
from kurobara.categories.models import Category, entry_categories
from kurobara.categories.rules import MAX_CATEGORIES, moved
from kurobara.db.types import utcnow
from kurobara.library.service import lock_counter


class CategoryExists(Exception):
    kind = "category_exists"


class TooManyCategories(Exception):
    kind = "too_many_categories"


@dataclass(frozen=True)
class CategoryView:
    category: Category
    entry_count: int


async def list_categories(*, db_session: AsyncSession, user_id: uuid.UUID) -> list[CategoryView]:
    """The user's categories in tab order, each with how many entries are on it."""
    counts = (
        select(entry_categories.c.category_id, func.count().label("n"))
        .group_by(entry_categories.c.category_id)
        .subquery()
    )
    rows = await db_session.execute(
        select(Category, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.category_id == Category.id)
        .where(Category.user_id == user_id)
        .order_by(Category.position, Category.created_at, Category.id)
        .execution_options(populate_existing=True)
    )
    return [CategoryView(category, int(n)) for category, n in rows]


async def _owned(db_session: AsyncSession, user_id: uuid.UUID, category_id: uuid.UUID) -> Category:
    category = await db_session.scalar(
        select(Category).where(Category.id == category_id, Category.user_id == user_id)
    )
    if category is None:
        raise CategoryNotFound([category_id])
    return category


async def _ordered_ids(db_session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    ids = await db_session.scalars(
        select(Category.id)
        .where(Category.user_id == user_id)
        .order_by(Category.position, Category.created_at, Category.id)
    )
    return list(ids.all())


async def _renumber(db_session: AsyncSession, ids: list[uuid.UUID]) -> None:
    for position, category_id in enumerate(ids):
        await db_session.execute(
            update(Category)
            .where(Category.id == category_id, Category.position != position)
            .values(position=position)
            .execution_options(synchronize_session=False)
        )


async def _flush_name(db_session: AsyncSession) -> None:
    try:
        await db_session.flush()
    except IntegrityError as exc:
        await db_session.rollback()
        raise CategoryExists("you already have a category of that name") from exc


async def create_category(
    *, db_session: AsyncSession, user_id: uuid.UUID, name: str
) -> CategoryView:
    """A new category, placed after the user's others."""
    await lock_counter(db_session, user_id)
    ids = await _ordered_ids(db_session, user_id)
    if len(ids) >= MAX_CATEGORIES:
        await db_session.rollback()
        raise TooManyCategories(f"you can have at most {MAX_CATEGORIES} categories")
    category = Category(user_id=user_id, name=name, position=len(ids))
    db_session.add(category)
    await _flush_name(db_session)
    await db_session.commit()
    return CategoryView(category, 0)


async def update_category(
    *,
    db_session: AsyncSession,
    user_id: uuid.UUID,
    category_id: uuid.UUID,
    name: str | None = None,
    position: int | None = None,
) -> CategoryView:
    """Rename and/or move a category; the others shift to keep positions 0, 1, 2…"""
    await lock_counter(db_session, user_id)
    category = await _owned(db_session, user_id, category_id)
    if name is not None and name != category.name:
        category.name = name
        category.updated_at = utcnow()
        await _flush_name(db_session)
    if position is not None:
        ids = await _ordered_ids(db_session, user_id)
        await _renumber(db_session, moved(ids, category.id, position))
    await db_session.commit()
    views = await list_categories(db_session=db_session, user_id=user_id)
    await db_session.commit()
    return next(view for view in views if view.category.id == category_id)


async def delete_category(
    *, db_session: AsyncSession, user_id: uuid.UUID, category_id: uuid.UUID
) -> None:
    """Delete a category; its entries stay in the library, on their other categories."""
    await lock_counter(db_session, user_id)
    await _owned(db_session, user_id, category_id)
    await db_session.execute(
        delete(Category).where(Category.id == category_id, Category.user_id == user_id)
    )
    await _renumber(db_session, await _ordered_ids(db_session, user_id))
    await db_session.commit()
