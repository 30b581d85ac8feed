"""Pydantic shapes of ``/api/v1/categories`` and of the category fields the library API adds."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from kurobara.categories.rules import MAX_CATEGORIES, MAX_NAME_LENGTH, clean_name

CategoryName = Annotated[
    str, BeforeValidator(clean_name), Field(min_length=1, max_length=MAX_NAME_LENGTH)
]
CategoryIds = Annotated[
    list[uuid.UUID],
    Field(max_length=MAX_CATEGORIES),
    AfterValidator(lambda ids: list(dict.fromkeys(ids))),
]


class CategoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: CategoryName


class CategoryChanges(BaseModel):
    """Rename (``name``) and/or move (``position``, 0 = first tab; past the end = last)."""

    model_config = ConfigDict(extra="forbid")

    name: CategoryName | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    position: int
    # Entries of the caller's library on this category.
    entry_count: int = 0
    created_at: datetime
    updated_at: datetime


class CategoryRef(BaseModel):
    """A category as a library entry shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str


AssignMode = Literal["move", "add", "remove"]


class BulkCategoryRequest(BaseModel):
    """``PATCH /library/bulk``: put entries on categories. ``move`` leaves each entry on
    exactly ``category_ids`` (an empty list takes it off every category), ``add`` adds them,
    ``remove`` takes the entries off them."""

    model_config = ConfigDict(extra="forbid")

    manga_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    category_ids: CategoryIds
    mode: AssignMode = "move"


class BulkCategoryResult(BaseModel):
    updated: int
    mode: AssignMode
    manga_ids: list[uuid.UUID]
    category_ids: list[uuid.UUID]
