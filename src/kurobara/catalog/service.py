"""The catalog's services: list entries with their state, enable and disable them (the registry
and the monitor's rows follow), keep each replica's registry in step with the enabled entries,
and refresh the community indexes.

No network I/O inside a transaction: an index is claimed in one short transaction, fetched,
and recorded in another.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kurobara.catalog import rules
from kurobara.catalog.models import CatalogEnabled, CatalogIndex
from kurobara.catalog.rules import BUNDLED, CatalogEntry, CatalogFilter, EntryState
from kurobara.config import Settings
from kurobara.monitoring import history
from kurobara.monitoring.registry_sync import set_catalog_row
from kurobara.providers.base import Provider
from kurobara.providers.definitions import ProviderDefinition
from kurobara.providers.errors import ProviderError
from kurobara.providers.http import HttpClient
from kurobara.providers.registry import (
    ProviderConfigError,
    ProviderRegistry,
    parse_definition,
)

logger = logging.getLogger("kurobara.catalog")

BUNDLED_FILE = Path(__file__).parent / "bundled.yaml"
# The shared HTTP client's rate-limit key for index fetches (they are no provider's traffic).
INDEX_CLIENT_ID = "catalog-index"


class CatalogError(Exception):
    """Base of the catalog's refusals."""


class EntryNotFound(CatalogError):
    def __init__(self, entry_id: str) -> None:
        super().__init__(f"no catalog entry {entry_id!r}")


class EntryConfigured(CatalogError):
    def __init__(self, entry_id: str) -> None:
        super().__init__(
            f"provider {entry_id!r} is part of the server's configuration; "
            "it is switched on and off on the Providers page"
        )


@cache
def bundled_definitions(path: Path = BUNDLED_FILE) -> tuple[ProviderDefinition, ...]:
    """The bundled catalog, validated once (an invalid entry is a bug: start-up stops)."""
    parsed = rules.parse_index(path.read_bytes(), source=str(path))
    if parsed.rejected:
        raise ProviderConfigError("; ".join(parsed.rejected))
    return tuple(parsed.definitions)


@dataclass
class CatalogSources:
    """Where this replica's catalog comes from: the bundled file (unless switched off) and the
    configured index URLs, whose last good fetch lives in ``catalog_index``. Parsed indexes
    are kept by content hash, so listing does not re-validate unchanged ones."""

    bundled: bool
    urls: list[str]
    _parsed: dict[tuple[str, str], list[ProviderDefinition]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> CatalogSources:
        urls = list(dict.fromkeys(settings.catalog_urls))
        return cls(bundled=settings.catalog_bundled, urls=urls)

    async def entries(self, db_session: AsyncSession) -> list[CatalogEntry]:
        sources: list[tuple[str, Sequence[ProviderDefinition]]] = []
        if self.bundled:
            sources.append((BUNDLED, bundled_definitions()))
        if self.urls:
            found = await list_indexes(db_session=db_session, urls=self.urls)
            rows = {row.url: row for row in found}
            for url in self.urls:
                row = rows.get(url)
                if row is not None and row.content_hash:
                    sources.append((url, self._definitions(row)))
        return rules.merge(sources)

    def _definitions(self, row: CatalogIndex) -> list[ProviderDefinition]:
        key = (row.url, row.content_hash or "")
        if key not in self._parsed:
            parsed = rules.parse_index(row.entries.encode(), source=row.url)
            self._parsed = {k: v for k, v in self._parsed.items() if k[0] != row.url}
            self._parsed[key] = parsed.definitions
        return self._parsed[key]


@dataclass(frozen=True)
class EntryView:
    entry: CatalogEntry
    state: EntryState


@dataclass(frozen=True)
class CatalogPage:
    items: list[EntryView]
    total: int
    languages: list[str]
    kinds: list[str]
    bundled: bool
    # Every configured index URL with its row (``None`` until its first fetch is claimed).
    indexes: list[tuple[str, CatalogIndex | None]]


async def list_indexes(*, db_session: AsyncSession, urls: Sequence[str]) -> list[CatalogIndex]:
    if not urls:
        return []
    found = await db_session.scalars(select(CatalogIndex).where(CatalogIndex.url.in_(urls)))
    rows = {row.url: row for row in found}
    return [rows[url] for url in urls if url in rows]


async def enabled_ids(*, db_session: AsyncSession) -> set[str]:
    return set(await db_session.scalars(select(CatalogEnabled.provider_id)))


async def all_entries(*, db_session: AsyncSession, sources: CatalogSources) -> list[CatalogEntry]:
    """The catalog's entries, plus enabled ones whose source no longer lists them (an index
    dropped the site, the bundled catalog was switched off): they stay providers, as the admin
    chose, and stay listed so that they can be disabled."""
    entries = await sources.entries(db_session)
    known = {entry.id for entry in entries}
    rows = await db_session.execute(
        select(CatalogEnabled.provider_id, CatalogEnabled.origin, CatalogEnabled.definition)
    )
    for provider_id, origin, stored in rows:
        if provider_id in known:
            continue
        try:
            definition = ProviderDefinition.model_validate(json.loads(stored))
        except ValueError:
            continue
        entries.append(CatalogEntry(definition=definition, origin=origin))
    return entries


async def list_catalog(
    *,
    db_session: AsyncSession,
    sources: CatalogSources,
    registry: ProviderRegistry,
    flt: CatalogFilter,
    page: int = 1,
    limit: int = 50,
) -> CatalogPage:
    entries = await all_entries(db_session=db_session, sources=sources)
    enabled = await enabled_ids(db_session=db_session)
    configured = {e.id for e in entries if registry.is_configured(e.id)}
    views = [
        EntryView(entry=e, state=rules.entry_state(e.id, enabled=enabled, configured=configured))
        for e in entries
    ]
    matching = [v for v in views if rules.matches(v.entry, v.state, flt)]
    start = (page - 1) * limit
    rows = {row.url: row for row in await list_indexes(db_session=db_session, urls=sources.urls)}
    return CatalogPage(
        items=matching[start : start + limit],
        total=len(matching),
        languages=sorted({e.definition.language for e in entries}),
        kinds=sorted({e.definition.kind for e in entries}),
        bundled=sources.bundled,
        indexes=[(url, rows.get(url)) for url in sources.urls],
    )


async def _find(
    *, db_session: AsyncSession, sources: CatalogSources, entry_id: str
) -> CatalogEntry:
    for entry in await all_entries(db_session=db_session, sources=sources):
        if entry.id == entry_id:
            return entry
    raise EntryNotFound(entry_id)


def build_provider(definition: ProviderDefinition, http: HttpClient) -> Provider:
    """The provider of an enabled entry's stored definition (validated again: the kinds'
    parameters may have tightened since it was stored)."""
    checked, cls = parse_definition(definition.model_dump(mode="json"), source="catalog", index=1)
    return cls(checked, http)


async def enable_entry(
    *,
    db_session: AsyncSession,
    sources: CatalogSources,
    registry: ProviderRegistry,
    http: HttpClient,
    entry_id: str,
    admin_id: uuid.UUID | None,
    max_consecutive_failures: int,
    now: datetime,
) -> EntryView:
    """Enable a catalog entry: store its definition, give the monitor an enabled row due now,
    and register the provider in this replica (the others follow at their next sync)."""
    entry = await _find(db_session=db_session, sources=sources, entry_id=entry_id)
    if registry.is_configured(entry.id):
        raise EntryConfigured(entry.id)
    definition = entry.definition.model_copy(update={"enabled": True})
    provider = build_provider(definition, http)
    stored = json.dumps(definition.model_dump(mode="json"), ensure_ascii=False)
    stmt = history.dialect_insert(db_session, CatalogEnabled).values(
        provider_id=entry.id, origin=entry.origin, definition=stored, enabled_at=now,
        enabled_by=admin_id,
    )  # fmt: skip
    changes = {"origin": entry.origin, "definition": stored, "enabled_at": now}
    await db_session.execute(
        stmt.on_conflict_do_update(
            index_elements=["provider_id"], set_={**changes, "enabled_by": admin_id}
        )
    )
    await set_catalog_row(
        db_session=db_session, provider_id=entry.id, name=definition.name, url=definition.url,
        enabled=True, max_consecutive_failures=max_consecutive_failures, now=now,
    )  # fmt: skip
    await db_session.commit()
    registry.add(provider)
    logger.info("catalog entry enabled provider=%s origin=%s", entry.id, entry.origin)
    return EntryView(entry=entry, state="enabled")


async def disable_entry(
    *,
    db_session: AsyncSession,
    sources: CatalogSources,
    registry: ProviderRegistry,
    entry_id: str,
    max_consecutive_failures: int,
    now: datetime,
) -> EntryView:
    """Disable an enabled entry (idempotent): the monitor stops checking it on every replica
    at once (its row is disabled), and it leaves this replica's registry. Its history stays."""
    entry = await _find(db_session=db_session, sources=sources, entry_id=entry_id)
    if registry.is_configured(entry.id):
        raise EntryConfigured(entry.id)
    gone = await db_session.execute(
        delete(CatalogEnabled).where(CatalogEnabled.provider_id == entry.id)
    )
    if getattr(gone, "rowcount", 0):
        await set_catalog_row(
            db_session=db_session, provider_id=entry.id, name=entry.definition.name,
            url=entry.definition.url, enabled=False,
            max_consecutive_failures=max_consecutive_failures, now=now,
        )  # fmt: skip
    await db_session.commit()
    if registry.remove(entry.id):
        logger.info("catalog entry disabled provider=%s", entry.id)
    return EntryView(entry=entry, state="available")


@dataclass(frozen=True)
class SyncResult:
    added: list[str]
    removed: list[str]


async def sync_enabled(
    *, db_session: AsyncSession, registry: ProviderRegistry, http: HttpClient
) -> SyncResult:
    """Make this replica's registry hold exactly the enabled catalog entries: those another
    replica enabled join, those it disabled leave. A stored definition that no longer
    validates (a kind removed in an upgrade) is logged and left out."""
    while True:
        seen = registry.changes
        rows = await db_session.execute(
            select(CatalogEnabled.provider_id, CatalogEnabled.definition)
        )
        wanted: dict[str, str] = {row[0]: row[1] for row in rows.all()}
        await db_session.rollback()  # a read: hold no transaction while building providers
        # An enable or disable of this replica that landed during the read would be undone by
        # this pass over an older picture: read again. From here on nothing awaits.
        if registry.changes == seen:
            break
    added: list[str] = []
    for provider_id, stored in wanted.items():
        if registry.is_configured(provider_id):
            continue
        if provider_id in registry:
            current = registry.get(provider_id).definition.model_dump(mode="json")
            if current == json.loads(stored):
                continue
        try:
            definition = ProviderDefinition.model_validate(json.loads(stored))
            registry.add(build_provider(definition, http))
        except (ValueError, ProviderConfigError) as exc:
            logger.error("catalog entry cannot be loaded provider=%s: %s", provider_id, exc)
            continue
        added.append(provider_id)
    removed = [pid for pid in registry.added_ids() if pid not in wanted]
    for provider_id in removed:
        registry.remove(provider_id)
    if added or removed:
        logger.info("catalog synced added=%d removed=%d", len(added), len(removed))
    return SyncResult(added=added, removed=removed)


# -- community indexes ---------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    url: str
    ok: bool
    entries: int = 0
    rejected: int = 0
    changed: bool = False
    error: str | None = None


async def claim_refresh(
    *, db_session: AsyncSession, url: str, now: datetime, every: timedelta
) -> bool:
    """Take the refresh of one index URL if it is due; with several replicas exactly one wins
    (a conditional UPDATE whose row count says who)."""
    await db_session.execute(
        history.dialect_insert(db_session, CatalogIndex)
        .values(url=url, entries="[]", entry_count=0, rejected="[]")
        .on_conflict_do_nothing(index_elements=["url"])
    )
    claimed = await db_session.execute(
        update(CatalogIndex)
        .where(
            CatalogIndex.url == url,
            or_(CatalogIndex.attempted_at.is_(None), CatalogIndex.attempted_at <= now - every),
        )
        .values(attempted_at=now)
    )
    await db_session.commit()
    return bool(getattr(claimed, "rowcount", 0))


async def fetch_index(*, http: HttpClient, url: str) -> tuple[bytes, rules.ParsedIndex]:
    """GET an index through the shared client and parse it; raises ``ProviderError`` (the
    network) or ``UnreadableIndex`` (the document)."""
    response = await http.get(INDEX_CLIENT_ID, url, headers={"Accept": "application/json, */*"})
    return response.content, rules.parse_index(response.content, source=url)


async def record_refresh(
    *,
    db_session: AsyncSession,
    url: str,
    now: datetime,
    body: bytes | None,
    parsed: rules.ParsedIndex | None,
    error: str | None,
) -> RefreshResult:
    row = await db_session.get(CatalogIndex, url)
    if row is None:  # claimed, then removed by nobody: the claim inserted it
        row = CatalogIndex(url=url, entries="[]", entry_count=0, rejected="[]")
        db_session.add(row)
    if body is None or parsed is None:
        row.error = (error or "unknown error")[:2000]
        await db_session.commit()
        logger.warning("catalog index refresh failed url=%s: %s", url, row.error)
        return RefreshResult(url=url, ok=False, error=row.error)
    digest = rules.content_hash(body)
    changed = digest != row.content_hash
    row.content_hash = digest
    row.entries = json.dumps([d.model_dump(mode="json") for d in parsed.definitions])
    row.entry_count = len(parsed.definitions)
    row.rejected = json.dumps(parsed.rejected[: rules.MAX_REJECTIONS_SHOWN])
    row.fetched_at = now
    row.error = None
    await db_session.commit()
    logger.info(
        "catalog index refreshed url=%s entries=%d rejected=%d changed=%s",
        url, len(parsed.definitions), len(parsed.rejected), changed,
    )  # fmt: skip
    return RefreshResult(
        url=url, ok=True, entries=len(parsed.definitions), rejected=len(parsed.rejected),
        changed=changed,
    )  # fmt: skip


async def fetch_and_record(
    *, db_session: AsyncSession, http: HttpClient, url: str, now: datetime
) -> RefreshResult:
    """Fetch a claimed index (outside any transaction) and record what came back."""
    await db_session.rollback()
    try:
        body, parsed = await fetch_index(http=http, url=url)
    except ProviderError as exc:
        return await record_refresh(
            db_session=db_session, url=url, now=now, body=None, parsed=None,
            error=f"{exc.kind}: {exc}",
        )  # fmt: skip
    except rules.UnreadableIndex as exc:
        return await record_refresh(
            db_session=db_session, url=url, now=now, body=None, parsed=None,
            error=f"unreadable: {exc}",
        )  # fmt: skip
    return await record_refresh(
        db_session=db_session, url=url, now=now, body=body, parsed=parsed, error=None
    )
