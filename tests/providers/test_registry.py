"""The provider registry: built-in definitions, the user's providers file (YAML or JSON), the
switch that leaves built-ins out, and invalid definitions stopping start-up with a message that
names the file, the entry and the field."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

from kurobara.app import create_app
from kurobara.config import Settings
from kurobara.providers.fakes.html import FakeHtmlSite
from kurobara.providers.fakes.madara import FakeMadaraSite
from kurobara.providers.html import HtmlProvider
from kurobara.providers.http import HttpClient
from kurobara.providers.madara import MadaraProvider
from kurobara.providers.mangathemesia import MangaThemesiaProvider
from kurobara.providers.registry import (
    ProviderConfigError,
    ProviderRegistry,
    load_definitions,
)
from tests.providers.sites import FakeResolver

BUILTIN_MADARA = {"mangaread", "toonily"}
BUILTIN_THEMESIA = {"razure", "madarascans"}


def make_settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def fake_definitions() -> list[dict[str, Any]]:
    """Definitions of fake sites that are never started: loading needs no network."""
    return [FakeMadaraSite().definition("my-madara"), FakeHtmlSite().definition("my-html")]


def write(path: Path, entries: Any) -> Path:
    text = json.dumps(entries) if path.suffix == ".json" else yaml.safe_dump(entries)
    path.write_text(text, encoding="utf-8")
    return path


async def test_builtin_definitions_load_without_network() -> None:
    resolver = FakeResolver()  # knows no name: any lookup of a real site would be recorded
    http = HttpClient(user_agent="t", resolver=resolver)
    registry = ProviderRegistry.from_settings(make_settings(builtin_providers=True), http)
    assert resolver.asked == []
    await http.aclose()
    kinds = {provider.id: type(provider) for provider in registry}
    assert {i for i, cls in kinds.items() if cls is MadaraProvider} >= BUILTIN_MADARA
    assert {i for i, cls in kinds.items() if cls is MangaThemesiaProvider} >= BUILTIN_THEMESIA
    assert all(p.url.startswith("https://") for p in registry if p.id in BUILTIN_MADARA)
    # Facts from the public catalogs: Toonily's series moved to /serie/, Madara Scans to .org
    # (a MangaThemesia site now), Zero Scan is gone.
    assert registry.get("toonily").params.manga_path == "serie"
    assert registry.get("madarascans").url == "https://madarascans.org"
    assert registry.get("razure").params.manga_path == "series"
    assert "zeroscan" not in registry


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_user_file_in_yaml_or_json(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"providers{suffix}", fake_definitions())
    loaded = load_definitions(make_settings(builtin_providers=False, providers_file=path))
    assert [(d.id, cls) for d, cls in loaded] == [
        ("my-madara", MadaraProvider),
        ("my-html", HtmlProvider),
    ]


def test_user_file_may_wrap_the_list_in_a_providers_key(tmp_path: Path) -> None:
    path = write(tmp_path / "providers.yaml", {"providers": fake_definitions()})
    loaded = load_definitions(make_settings(builtin_providers=False, providers_file=path))
    assert [d.id for d, _ in loaded] == ["my-madara", "my-html"]


def test_builtins_can_be_switched_off_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "providers.json", fake_definitions())
    monkeypatch.setenv("KUROBARA_BUILTIN_PROVIDERS", "false")
    monkeypatch.setenv("KUROBARA_PROVIDERS_FILE", str(path))
    assert [d.id for d, _ in load_definitions(make_settings())] == ["my-madara", "my-html"]
    monkeypatch.setenv("KUROBARA_BUILTIN_PROVIDERS", "true")
    ids = {d.id for d, _ in load_definitions(make_settings())}
    assert ids >= BUILTIN_MADARA | BUILTIN_THEMESIA | {"my-madara", "my-html"}


def _broken(change: dict[str, Any], *, kind: str) -> dict[str, Any]:
    entry = fake_definitions()[0 if kind == "madara" else 1] | {"id": "broken"}
    for dotted, value in change.items():
        block, _, field = dotted.partition(".")
        if field:
            entry[block] = {**entry.get(block, {}), field: value}
        elif value is None:
            entry.pop(block)
        else:
            entry[block] = value
    return entry


@pytest.mark.parametrize(
    ("kind", "change", "field"),
    [
        ("html", {"search.item": "article.hit["}, "search.item"),
        ("html", {"pages.image": ""}, "pages.image"),
        ("html", {"chapters.url": "/series/{slug}"}, "chapters.url"),
        ("html", {"manga": None}, "manga"),
        ("madara", {"chapters_endpoint": "newest"}, "chapters_endpoint"),
        ("madara", {"selectors": {"title": ".post-title h1 >"}}, "selectors.title"),
        ("madara", {"manga_pathh": "manga"}, "manga_pathh"),
        ("madara", {"url": "ftp://example.org"}, "url"),
        ("madara", {"health.timeout": -1}, "health.timeout"),
    ],
)
def test_invalid_definition_names_file_entry_and_field(
    tmp_path: Path, kind: str, change: dict[str, Any], field: str
) -> None:
    path = write(tmp_path / "providers.yaml", [*fake_definitions(), _broken(change, kind=kind)])
    with pytest.raises(ProviderConfigError) as caught:
        load_definitions(make_settings(builtin_providers=False, providers_file=path))
    message = str(caught.value)
    assert message.startswith(f"{path}: entry 3 (id 'broken'): field '{field}'")


def test_unknown_kind_lists_the_known_ones(tmp_path: Path) -> None:
    entry = {"id": "odd", "name": "Odd", "kind": "gopher", "url": "https://odd.test"}
    path = write(tmp_path / "providers.yaml", [entry])
    with pytest.raises(ProviderConfigError, match="entry 1 \\(id 'odd'\\): field 'kind'") as c:
        load_definitions(make_settings(builtin_providers=False, providers_file=path))
    assert "unknown kind 'gopher'" in str(c.value)
    assert "madara" in str(c.value)
    assert "html" in str(c.value)


def test_duplicate_id_in_one_file(tmp_path: Path) -> None:
    madara, html = fake_definitions()
    path = write(tmp_path / "providers.yaml", [madara, html | {"id": "my-madara"}])
    with pytest.raises(ProviderConfigError) as caught:
        load_definitions(make_settings(builtin_providers=False, providers_file=path))
    assert str(caught.value) == (
        f"{path}: entry 2: field 'id': duplicate id 'my-madara' (already defined in {path})"
    )


def test_user_file_cannot_reuse_a_builtin_id(tmp_path: Path) -> None:
    path = write(tmp_path / "providers.yaml", [fake_definitions()[0] | {"id": "mangaread"}])
    with pytest.raises(ProviderConfigError, match="duplicate id 'mangaread'") as caught:
        load_definitions(make_settings(builtin_providers=True, providers_file=path))
    assert str(caught.value).startswith(f"{path}: entry 1")
    assert "builtin/madara.yaml" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [("providers: [\n  - id: x\n", "not valid yaml"), ("id: lonely\n", "expected a list")],
)
def test_a_broken_file_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "providers.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProviderConfigError, match=message) as caught:
        load_definitions(make_settings(builtin_providers=False, providers_file=path))
    assert str(caught.value).startswith(str(path))


# -- the application ------------------------------------------------------------------------


@pytest.fixture
def providers_file(tmp_path: Path) -> Path:
    return tmp_path / "user-providers.yaml"


@pytest.fixture
def settings_overrides(providers_file: Path) -> dict[str, object]:
    return {"providers_file": providers_file}


async def test_app_start_up_fails_naming_the_bad_field(
    settings: Settings, providers_file: Path
) -> None:
    write(providers_file, [_broken({"search.title": "h2["}, kind="html")])
    app = create_app(settings)
    with pytest.raises(ProviderConfigError) as caught:
        # Start-up fails while entering the lifespan; nothing is left to shut down.
        await AsyncExitStack().enter_async_context(app.router.lifespan_context(app))
    assert str(caught.value).startswith(
        f"{providers_file}: entry 1 (id 'broken'): field 'search.title'"
    )


async def test_app_registers_the_user_providers(settings: Settings, providers_file: Path) -> None:
    write(providers_file, fake_definitions())
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        registry: ProviderRegistry = app.state.registry
        assert registry.ids() == ["my-madara", "my-html"]
