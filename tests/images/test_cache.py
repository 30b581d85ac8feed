"""The disk cache on a real directory: the byte bound, least-recently-used order, pinned
entries, and an index rebuilt from disk after a restart."""

from __future__ import annotations

import os
from pathlib import Path

from kurobara.images.cache import ImageCache


def filled(root: Path, bound: int, *keys: str, size: int = 100) -> ImageCache:
    cache = ImageCache(root, max_bytes=bound)
    cache.load()
    for key in keys:
        cache.put(key, key.encode() * (size // len(key)), "image/png")
    return cache


def test_it_evicts_the_least_recently_used_past_its_bound(tmp_path: Path) -> None:
    cache = filled(tmp_path, 300, "aa", "bb", "cc")
    assert cache.get("aa") is not None  # aa is now the most recent
    cache.put("dd", b"d" * 100, "image/png")
    assert ("aa" in cache, "bb" in cache, "cc" in cache, "dd" in cache) == (
        True, False, True, True,
    )  # fmt: skip
    assert cache.total_bytes == 300
    assert sorted(p.name for p in (tmp_path / "lru").iterdir()) == [
        "aa.png", "cc.png", "dd.png",
    ]  # fmt: skip


def test_it_stays_under_its_bound_when_filled_far_past_it(tmp_path: Path) -> None:
    cache = filled(tmp_path, 1000, *(f"k{n:03}" for n in range(200)))
    on_disk = sum(p.stat().st_size for p in (tmp_path / "lru").iterdir())
    assert cache.total_bytes == on_disk <= 1000
    assert len(cache) == 10


def test_pinned_entries_are_never_evicted(tmp_path: Path) -> None:
    cache = filled(tmp_path, 200, "cover")
    cache.pin("cover")
    for n in range(5):
        cache.put(f"page{n}", b"p" * 100, "image/jpeg")
    assert "cover" in cache
    assert (tmp_path / "pinned" / "cover.png").exists()
    assert cache.total_bytes <= 200


def test_two_workers_share_the_directory_and_one_evicts_what_the_other_pins(
    tmp_path: Path,
) -> None:
    mine = filled(tmp_path, 1000, "cover")
    theirs = ImageCache(tmp_path, max_bytes=100)
    theirs.load()
    theirs.put("page", b"p" * 100, "image/jpeg")  # over its bound: it evicts the cover's file
    assert not (tmp_path / "lru" / "cover.png").exists()
    mine.pin("cover")  # gone from disk: forgotten, not an error
    assert "cover" not in mine
    assert mine.get("page") is None
    assert theirs.get("page") is not None


def test_it_survives_a_restart_in_recency_order(tmp_path: Path) -> None:
    cache = filled(tmp_path, 300, "aa", "bb", "cc")
    for age, key in ((30, "aa"), (10, "bb"), (20, "cc")):
        path = tmp_path / "lru" / f"{key}.png"
        os.utime(path, (path.stat().st_mtime - age, path.stat().st_mtime - age))
    (tmp_path / "lru" / ".tmpabandoned").write_bytes(b"half an image")
    restarted = ImageCache(tmp_path, max_bytes=300)
    restarted.load()
    entry = restarted.get("cc")
    assert entry is not None
    assert entry.content_type == "image/png"
    restarted.put("dd", b"d" * 100, "image/png")  # evicts aa, the oldest
    assert ("aa" in restarted, "bb" in restarted) == (False, True)
    assert not (tmp_path / "lru" / ".tmpabandoned").exists()
    del cache


def test_an_odd_content_type_cannot_make_a_path(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path, max_bytes=1000)
    entry = cache.put("key", b"x", "image/../../etc")
    assert entry.path.parent == tmp_path / "lru"
    assert entry.content_type == "image/octet-stream"
