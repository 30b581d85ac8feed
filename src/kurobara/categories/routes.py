"""HTTP routes of ``/api/v1/categories``: parse, call one service function, shape the answer.
Every call is scoped to the current user; another user's category is a 404 like a made-up id."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, HTTPException, status

from kurobara.categories import service
from kurobara.categories.links import CategoryNotFound
from kurobara.categories.schemas import CategoryChanges, CategoryCreate, CategoryRead
from kurobara.db.deps import SessionDep
from kurobara.users.deps import CurrentUser


def category_not_found(exc: CategoryNotFound) -> HTTPException:
    detail = {
        "message": "Unknown category",
        "unknown_category_ids": [str(i) for i in exc.category_ids],
    }
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=detail)


async def category_errors() -> AsyncIterator[None]:
    try:
        yield
    except CategoryNotFound as exc:
        raise category_not_found(exc) from exc
    except service.CategoryExists as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc).capitalize()) from exc
    except service.TooManyCategories as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc).capitalize()) from exc


categories_router = APIRouter(
    prefix="/categories", tags=["categories"], dependencies=[Depends(category_errors)]
)


def _read(view: service.CategoryView) -> CategoryRead:
    shaped = CategoryRead.model_validate(view.category)
    return shaped.model_copy(update={"entry_count": view.entry_count})


@categories_router.get("/", response_model=list[CategoryRead])
async def list_categories(user: CurrentUser, db_session: SessionDep) -> list[CategoryRead]:
    """The caller's categories in tab order, with how many entries each holds."""
    views = await service.list_categories(db_session=db_session, user_id=user.id)
    return [_read(view) for view in views]


@categories_router.post("/", response_model=CategoryRead, status_code=status.HTTP_201_CREATED)
async def create_category(
    payload: CategoryCreate, user: CurrentUser, db_session: SessionDep
) -> CategoryRead:
    """A new category after the others; a name the caller already uses is a 409."""
    view = await service.create_category(db_session=db_session, user_id=user.id, name=payload.name)
    return _read(view)


@categories_router.patch("/{category_id}", response_model=CategoryRead)
async def update_category(
    category_id: uuid.UUID, payload: CategoryChanges, user: CurrentUser, db_session: SessionDep
) -> CategoryRead:
    """Rename (``name``) and/or move (``position``) a category."""
    view = await service.update_category(
        db_session=db_session,
        user_id=user.id,
        category_id=category_id,
        name=payload.name,
        position=payload.position,
    )
    return _read(view)


@categories_router.delete("/{category_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_category(
    category_id: uuid.UUID, user: CurrentUser, db_session: SessionDep
) -> None:
    """Delete a category; its entries stay in the library."""
    await service.delete_category(db_session=db_session, user_id=user.id, category_id=category_id)
