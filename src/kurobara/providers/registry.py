"""The provider registry: built-in definitions shipped in ``providers/builtin/*.yaml`` plus the
user's ``KUROBARA_PROVIDERS_FILE`` (YAML or JSON), each turned into a provider of its kind.

An invalid definition stops start-up with a message naming the file, the entry and the field.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kurobara.config import Settings
from kurobara.providers.base import Provider
from kurobara.providers.definitions import ProviderDefinition
from kurobara.providers.http import HttpClient

BUILTIN_DIR = Path(__file__).parent / "builtin"

# kind name -> "module:Class"; imported when a definition of that kind is loaded.
KINDS: dict[str, str] = {
    "mangadex": "kurobara.providers.mangadex:MangaDexProvider",
    "madara": "kurobara.providers.madara:MadaraProvider",
    "html": "kurobara.providers.html:HtmlProvider",
    "mangathemesia": "kurobara.providers.mangathemesia:MangaThemesiaProvider",
}


class ProviderConfigError(Exception):
    """A provider definition is invalid; the message says where."""


class UnknownProvider(KeyError):
    def __init__(self, provider_id: str) -> None:
        super().__init__(provider_id)
        self.provider_id = provider_id

    def __str__(self) -> str:
        return f"unknown provider {self.provider_id!r}"


def provider_class(kind: str) -> type[Provider]:
    target = KINDS.get(kind)
    if target is None:
        raise KeyError(kind)
    module_name, _, class_name = target.partition(":")
    cls: type[Provider] = getattr(importlib.import_module(module_name), class_name)
    return cls


def read_entries(path: Path) -> list[Any]:
    """The list of raw definitions in a file: a top-level list or a ``providers:`` key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProviderConfigError(f"{path}: cannot read providers file: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ProviderConfigError(
            f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}"
        ) from exc
    return entries_of(data, where=str(path))


def entries_of(data: Any, *, where: str) -> list[Any]:
    """The raw definitions of a parsed document: a top-level list or a ``providers:`` key."""
    if isinstance(data, dict) and "providers" in data:
        data = data["providers"]
    if data is None:
        return []
    if not isinstance(data, list):
        raise ProviderConfigError(f"{where}: expected a list of providers (or a 'providers:' key)")
    return data


def _field_errors(exc: ValidationError) -> str:
    return "; ".join(
        f"field '{'.'.join(str(p) for p in err['loc']) or '(entry)'}': {err['msg']}"
        for err in exc.errors()
    )


def parse_definition(
    raw: Any, *, source: str, index: int
) -> tuple[ProviderDefinition, type[Provider]]:
    where = f"{source}: entry {index}"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        where += f" (id '{raw['id']}')"
    if not isinstance(raw, dict):
        raise ProviderConfigError(f"{where}: expected a mapping of fields")
    try:
        definition = ProviderDefinition.model_validate(raw)
    except ValidationError as exc:
        raise ProviderConfigError(f"{where}: {_field_errors(exc)}") from exc
    try:
        cls = provider_class(definition.kind)
    except KeyError as exc:
        kinds = ", ".join(sorted(KINDS))
        raise ProviderConfigError(
            f"{where}: field 'kind': unknown kind '{definition.kind}' (one of {kinds})"
        ) from exc
    try:
        cls.Params.model_validate(definition.params)
    except ValidationError as exc:
        raise ProviderConfigError(f"{where}: {_field_errors(exc)}") from exc
    return definition, cls


def load_definitions(settings: Settings) -> list[tuple[ProviderDefinition, type[Provider]]]:
    sources: list[Path] = []
    if settings.builtin_providers:
        sources.extend(sorted(BUILTIN_DIR.glob("*.yaml")))
    if settings.providers_file is not None:
        sources.append(settings.providers_file)
    loaded: list[tuple[ProviderDefinition, type[Provider]]] = []
    seen: dict[str, str] = {}
    for path in sources:
        for index, raw in enumerate(read_entries(path), start=1):
            definition, cls = parse_definition(raw, source=str(path), index=index)
            if definition.id in seen:
                raise ProviderConfigError(
                    f"{path}: entry {index}: field 'id': duplicate id '{definition.id}' "
                    f"(already defined in {seen[definition.id]})"
                )
            seen[definition.id] = str(path)
            loaded.append((definition, cls))
    return loaded


class ProviderRegistry:
    """Every registered provider by id, in definition order.

    ``local`` (uploaded archives, ``kurobara.images.local``) is reachable by ``get`` and ``in``
    but not iterated: it is no site, so the monitor, search and the providers page leave it out.

    The providers of the configuration are fixed at start-up; catalog entries an admin enables
    (``kurobara.catalog``) join and leave while the server runs, through ``add`` and ``remove``.
    """

    def __init__(self, providers: Sequence[Provider], *, local: Provider | None = None) -> None:
        self._providers = {provider.id: provider for provider in providers}
        self._configured = frozenset(self._providers)
        self._local = {local.id: local} if local is not None else {}
        # Adds and removes so far: the catalog sync tells by it whether the registry moved
        # while it read the stored entries.
        self.changes = 0

    @classmethod
    def from_settings(cls, settings: Settings, http: HttpClient) -> ProviderRegistry:
        from kurobara.images.local import LocalProvider, LocalStore, local_definition

        providers = []
        for definition, provider_cls in load_definitions(settings):
            providers.append(provider_cls(definition, http))
        local = LocalProvider(local_definition(), http, LocalStore(settings.data_dir / "local"))
        return cls(providers, local=local)

    def get(self, provider_id: str) -> Provider:
        found = self._providers.get(provider_id) or self._local.get(provider_id)
        if found is None:
            raise UnknownProvider(provider_id)
        return found

    def __contains__(self, provider_id: object) -> bool:
        return provider_id in self._providers or provider_id in self._local

    def __iter__(self) -> Iterator[Provider]:
        # A snapshot: a catalog entry enabled while a caller iterates across an await must not
        # break its loop.
        return iter(list(self._providers.values()))

    def __len__(self) -> int:
        return len(self._providers)

    def ids(self) -> list[str]:
        return list(self._providers)

    def is_configured(self, provider_id: str) -> bool:
        """The provider comes from the configuration (built-ins, the providers file), not from
        an enabled catalog entry."""
        return provider_id in self._configured

    def add(self, provider: Provider) -> None:
        """Register a provider made from an enabled catalog entry (or replace its earlier one)."""
        if self.is_configured(provider.id) or provider.id in self._local:
            raise ValueError(f"provider {provider.id!r} is configured; a catalog cannot replace it")
        self._providers[provider.id] = provider
        self.changes += 1

    def remove(self, provider_id: str) -> bool:
        """Take an added provider out again; ``False`` when it was not there."""
        if self.is_configured(provider_id):
            raise ValueError(f"provider {provider_id!r} is configured; it cannot be removed")
        if self._providers.pop(provider_id, None) is None:
            return False
        self.changes += 1
        return True

    def added_ids(self) -> list[str]:
        return [pid for pid in self._providers if pid not in self._configured]
