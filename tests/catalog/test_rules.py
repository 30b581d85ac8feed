"""The catalog's pure rules, table-tested."""

from __future__ import annotations

import json

import pytest

from kurobara.catalog.rules import (
    CatalogEntry,
    CatalogFilter,
    UnreadableIndex,
    content_hash,
    entry_state,
    matches,
    merge,
    parse_index,
)
from kurobara.providers.definitions import ProviderDefinition


def definition(id: str, **fields: object) -> ProviderDefinition:
    values = {"name": id.title(), "kind": "madara", "url": f"https://{id}.example", **fields}
    return ProviderDefinition.model_validate({"id": id, **values})


ENTRY = CatalogEntry(
    definition=definition("sakura", name="Sakura Scans", language="es", nsfw=True),
    origin="bundled",
)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (CatalogFilter(), True),
        (CatalogFilter(language="es"), True),
        (CatalogFilter(language="ES"), True),
        (CatalogFilter(language="en"), False),
        (CatalogFilter(kind="madara"), True),
        (CatalogFilter(kind="mangathemesia"), False),
        (CatalogFilter(nsfw=True), True),
        (CatalogFilter(nsfw=False), False),
        (CatalogFilter(q="sakura"), True),
        (CatalogFilter(q="SCANS"), True),
        (CatalogFilter(q="sakura.example"), True),
        (CatalogFilter(q="rose"), False),
        (CatalogFilter(state="available"), True),
        (CatalogFilter(state="enabled"), False),
        (CatalogFilter(language="es", kind="madara", nsfw=True, q="saku"), True),
    ],
)
def test_filters(flt: CatalogFilter, expected: bool) -> None:
    assert matches(ENTRY, "available", flt) is expected


@pytest.mark.parametrize(
    ("entry_id", "expected"),
    [("a", "enabled"), ("b", "available"), ("c", "configured"), ("d", "configured")],
)
def test_entry_state(entry_id: str, expected: str) -> None:
    assert entry_state(entry_id, enabled={"a", "d"}, configured={"c", "d"}) == expected


def test_merge_keeps_the_first_source_naming_an_id() -> None:
    merged = merge(
        [
            ("bundled", [definition("a"), definition("b")]),
            ("https://one", [definition("b", name="Other B"), definition("c")]),
        ]
    )
    assert [(e.id, e.origin) for e in merged] == [
        ("a", "bundled"), ("b", "bundled"), ("c", "https://one"),
    ]  # fmt: skip
    assert merged[1].definition.name == "B"


@pytest.mark.parametrize(
    "body",
    [
        json.dumps([{"id": "a", "name": "A", "kind": "madara", "url": "https://a.example"}]),
        json.dumps({"providers": [{"id": "a", "name": "A", "kind": "madara", "url": "https://a.example"}]}),
        "providers:\n  - {id: a, name: A, kind: madara, url: 'https://a.example'}\n",
        "- id: a\n  name: A\n  kind: madara\n  url: https://a.example\n",
    ],
)  # fmt: skip
def test_an_index_is_json_or_yaml_in_the_definition_format(body: str) -> None:
    parsed = parse_index(body.encode(), source="index")
    assert [d.id for d in parsed.definitions] == ["a"]
    assert parsed.rejected == []


def test_an_invalid_entry_is_rejected_with_its_reason_and_the_rest_kept() -> None:
    body = json.dumps(
        [
            {"id": "good", "name": "Good", "kind": "madara", "url": "https://good.example"},
            {"id": "bad", "name": "Bad", "kind": "madara", "url": "ftp://bad.example"},
            {"id": "odd", "name": "Odd", "kind": "nosuchkind", "url": "https://odd.example"},
            {"id": "good", "name": "Again", "kind": "madara", "url": "https://again.example"},
            {"id": "typo", "name": "Typo", "kind": "madara", "url": "https://t.example",
             "manga_pth": "x"},
        ]
    )  # fmt: skip
    parsed = parse_index(body.encode(), source="index")
    assert [d.id for d in parsed.definitions] == ["good"]
    assert len(parsed.rejected) == 4
    assert "field 'url'" in parsed.rejected[0]
    assert "unknown kind 'nosuchkind'" in parsed.rejected[1]
    assert "duplicate id 'good'" in parsed.rejected[2]
    assert "manga_pth" in parsed.rejected[3]


@pytest.mark.parametrize(
    "body", [b"<html>not an index</html>: [", b'{"sites": 3}', b"42", b"\xff\xfe\x00"]
)
def test_a_document_that_is_no_index_is_unreadable(body: bytes) -> None:
    with pytest.raises(UnreadableIndex):
        parse_index(body, source="index")


def test_content_hash_is_the_sha256_of_the_body() -> None:
    assert content_hash(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
