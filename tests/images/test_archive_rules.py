"""Pure rules of archive reading: entry names, chapter numbers, image signatures."""

from __future__ import annotations

import io

import pytest

from kurobara.images.archives import (
    ArchiveRefused,
    chapter_number,
    read_archive,
    safe_entry_path,
    sniff_image,
)
from tests.images.archives import make_zip, pages, png


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Chapter 12", "12"),
        ("ch.7.5", "7.5"),
        ("Vol 2 - 007", "7"),
        ("Vol 3 Ch 010 - The End", "10"),
        ("#4", "4"),
        ("Extras", None),
    ],
)
def test_chapter_number_reads_the_name(name: str, expected: str | None) -> None:
    assert chapter_number(name) == expected


@pytest.mark.parametrize(
    "name", ["../evil.png", "a/../../evil.png", "/etc/passwd", "C:/evil.png", "..\\evil.png"]
)
def test_it_refuses_entries_that_climb_out(name: str) -> None:
    with pytest.raises(ArchiveRefused) as refused:
        safe_entry_path(name)
    assert refused.value.kind == "path_traversal"


@pytest.mark.parametrize("name", ["page1.png", "Chapter 1/page1.png", "a/b/c..d.png"])
def test_it_keeps_entries_inside(name: str) -> None:
    assert str(safe_entry_path(name)) == name


def test_it_sniffs_image_signatures() -> None:
    assert sniff_image(png()) == "image/png"
    assert sniff_image(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image(b"<html>") is None


def test_folders_become_chapters_in_natural_order() -> None:
    data = make_zip(
        pages(2, folder="Chapter 10") + pages(3, folder="Chapter 2") + pages(1, folder="Chapter 1")
    )
    contents = read_archive(io.BytesIO(data), default_title="x", max_unpacked_bytes=10**7)
    assert [c.title for c in contents.chapters] == ["Chapter 1", "Chapter 2", "Chapter 10"]
    assert [c.number for c in contents.chapters] == ["1", "2", "10"]
    assert [len(c.pages) for c in contents.chapters] == [1, 3, 2]


def test_pages_sort_as_people_number_them() -> None:
    data = make_zip([(f"p{i}.png", png(i)) for i in (10, 2, 1)])
    contents = read_archive(io.BytesIO(data), default_title="One", max_unpacked_bytes=10**7)
    assert contents.chapters[0].pages == ["p1.png", "p2.png", "p10.png"]
