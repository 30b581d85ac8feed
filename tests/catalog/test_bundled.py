"""The bundled catalog: every entry validates with the definition model and its kind's
parameters, builds a provider, and is disabled by default."""

from __future__ import annotations

from collections import Counter

import pytest

from kurobara.catalog.service import BUNDLED_FILE, build_provider, bundled_definitions
from kurobara.providers.http import HttpClient
from kurobara.providers.registry import BUILTIN_DIR, read_entries


def test_every_bundled_entry_validates_and_builds_a_provider() -> None:
    http = HttpClient(user_agent="test")
    definitions = bundled_definitions()
    providers = [build_provider(d, http) for d in definitions]
    assert [p.id for p in providers] == [d.id for d in definitions]
    assert len(read_entries(BUNDLED_FILE)) == len(definitions)  # nothing rejected


def test_the_bundled_catalog_is_substantial_and_covers_both_themes() -> None:
    kinds = Counter(d.kind for d in bundled_definitions())
    assert kinds["madara"] >= 100
    assert kinds["mangathemesia"] >= 50
    assert len({d.language for d in bundled_definitions()}) >= 10


def test_every_bundled_entry_is_disabled_by_default() -> None:
    assert not [d.id for d in bundled_definitions() if d.enabled]


def test_bundled_ids_are_unique_and_leave_the_built_ins_alone() -> None:
    ids = [d.id for d in bundled_definitions()]
    assert len(ids) == len(set(ids))
    builtin = {raw["id"] for path in BUILTIN_DIR.glob("*.yaml") for raw in read_entries(path)}
    assert not builtin & set(ids)


@pytest.mark.parametrize("field", ["manga_path", "date_format", "chapters_endpoint"])
def test_entries_carry_the_settings_their_site_needs(field: str) -> None:
    # Not every site needs a non-default value, but the catalog does carry each setting.
    assert any(field in d.params for d in bundled_definitions())
