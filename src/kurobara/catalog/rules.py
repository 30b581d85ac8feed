"""Pure rules of the catalog: reading an index, merging sources, an entry's state, filtering."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from kurobara.providers.definitions import ProviderDefinition
from kurobara.providers.registry import ProviderConfigError, entries_of, parse_definition

BUNDLED = "bundled"
EntryState = Literal["enabled", "available", "configured"]
# How many rejected entries of one index are kept to show (the rest are counted).
MAX_REJECTIONS_SHOWN = 20


@dataclass(frozen=True)
class CatalogEntry:
    definition: ProviderDefinition
    origin: str  # BUNDLED or the index URL it came from

    @property
    def id(self) -> str:
        return self.definition.id


@dataclass(frozen=True)
class CatalogFilter:
    q: str | None = None
    language: str | None = None
    kind: str | None = None
    nsfw: bool | None = None
    state: EntryState | None = None


@dataclass(frozen=True)
class ParsedIndex:
    definitions: list[ProviderDefinition]
    rejected: list[str]


class UnreadableIndex(ValueError):
    """An index that cannot be read at all (not JSON or YAML, not a list)."""


def content_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _document(body: bytes) -> Any:
    text = body.decode("utf-8-sig", errors="strict")
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UnreadableIndex(f"neither JSON nor YAML: {exc}") from exc


def parse_index(body: bytes, *, source: str) -> ParsedIndex:
    """The definitions of an index in the provider definition format; an entry that does not
    validate is rejected with the reason (the others still count), a document that is no list
    of definitions at all is an ``UnreadableIndex``."""
    try:
        data = _document(body)
        raw_entries = entries_of(data, where=source)
    except (UnicodeDecodeError, ProviderConfigError) as exc:
        raise UnreadableIndex(str(exc)) from exc
    definitions: list[ProviderDefinition] = []
    rejected: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_entries, start=1):
        try:
            definition, _ = parse_definition(raw, source=source, index=index)
        except ProviderConfigError as exc:
            rejected.append(str(exc))
            continue
        if definition.id in seen:
            rejected.append(f"{source}: entry {index}: duplicate id '{definition.id}'")
            continue
        seen.add(definition.id)
        definitions.append(definition)
    return ParsedIndex(definitions=definitions, rejected=rejected)


def merge(sources: Iterable[tuple[str, Sequence[ProviderDefinition]]]) -> list[CatalogEntry]:
    """One entry per id across the sources in order: the first source naming an id wins (the
    bundled catalog first, then the index URLs as configured)."""
    merged: dict[str, CatalogEntry] = {}
    for origin, definitions in sources:
        for definition in definitions:
            merged.setdefault(definition.id, CatalogEntry(definition=definition, origin=origin))
    return list(merged.values())


def entry_state(entry_id: str, *, enabled: set[str], configured: set[str]) -> EntryState:
    if entry_id in configured:
        return "configured"
    return "enabled" if entry_id in enabled else "available"


def matches(entry: CatalogEntry, state: EntryState, flt: CatalogFilter) -> bool:
    definition = entry.definition
    if flt.language is not None and definition.language.lower() != flt.language.lower():
        return False
    if flt.kind is not None and definition.kind != flt.kind:
        return False
    if flt.nsfw is not None and definition.nsfw != flt.nsfw:
        return False
    if flt.state is not None and state != flt.state:
        return False
    if flt.q:
        needle = flt.q.casefold()
        return needle in definition.name.casefold() or needle in definition.url.casefold()
    return True
