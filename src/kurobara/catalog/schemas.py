"""The catalog API's shapes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from kurobara.catalog.models import CatalogIndex
from kurobara.catalog.rules import CatalogFilter, EntryState
from kurobara.catalog.service import EntryView

KindName = Literal["madara", "mangathemesia", "mangadex", "html"]


class CatalogQuery(BaseModel):
    q: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, min_length=2, max_length=10)
    kind: KindName | None = None
    nsfw: bool | None = None
    state: EntryState | None = None
    page: int = Field(default=1, ge=1, le=10_000)
    limit: int = Field(default=50, ge=1, le=200)

    def filter(self) -> CatalogFilter:
        return CatalogFilter(
            q=(self.q or "").strip() or None, language=self.language, kind=self.kind,
            nsfw=self.nsfw, state=self.state,
        )  # fmt: skip


class CatalogEntryRead(BaseModel):
    id: str
    name: str
    kind: str
    url: str
    language: str
    nsfw: bool
    origin: str
    state: EntryState
    # The kind's settings the entry carries (path, date format, chapter endpoint, ...).
    params: dict[str, Any]

    @classmethod
    def of(cls, view: EntryView) -> CatalogEntryRead:
        d = view.entry.definition
        return cls(
            id=d.id, name=d.name, kind=d.kind, url=d.url, language=d.language, nsfw=d.nsfw,
            origin=view.entry.origin, state=view.state, params=d.params,
        )  # fmt: skip


class CatalogIndexRead(BaseModel):
    url: str
    content_hash: str | None
    entry_count: int
    rejected: list[str]
    fetched_at: datetime | None
    attempted_at: datetime | None
    error: str | None

    @classmethod
    def of(cls, row: CatalogIndex | None, url: str) -> CatalogIndexRead:
        if row is None:
            return cls(
                url=url, content_hash=None, entry_count=0, rejected=[], fetched_at=None,
                attempted_at=None, error=None,
            )  # fmt: skip
        return cls(
            url=row.url, content_hash=row.content_hash, entry_count=row.entry_count,
            rejected=json.loads(row.rejected or "[]"), fetched_at=row.fetched_at,
            attempted_at=row.attempted_at, error=row.error,
        )  # fmt: skip


class CatalogPageRead(BaseModel):
    items: list[CatalogEntryRead]
    total: int
    page: int
    limit: int
    languages: list[str]
    kinds: list[str]
    bundled: bool
    indexes: list[CatalogIndexRead]
