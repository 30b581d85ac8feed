"""The disk cache of proxied images: a byte bound, least-recently-used eviction, pinned entries
(covers of library manga) that eviction skips, and an index rebuilt from the directory so the
cache survives restarts.

Layout under ``<data_dir>/images/``: ``lru/`` and ``pinned/``, one file per image named
``<key>.<type>`` (``ab12…f0.jpeg``, ``…svg+xml``: the content type is in the name, so a hit
needs no metadata file). Recency is the file's mtime, touched on every hit, so the order
survives a restart too. Writes go to a temporary file renamed into place: a crash leaves no
half image behind. Pinned bytes count toward the bound; only unpinned entries are evicted.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
_SUBTYPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+-.")


@dataclass(slots=True)
class CacheEntry:
    key: str
    size: int
    content_type: str
    pinned: bool
    path: Path


def _subtype(content_type: str) -> str:
    subtype = content_type.removeprefix("image/").lower()
    if not subtype or set(subtype) - _SUBTYPE_CHARS:
        return "octet-stream"
    return subtype


class ImageCache:
    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._dirs = {False: root / "lru", True: root / "pinned"}
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()  # oldest first
        self.total_bytes = 0
        self.evictions = 0

    # -- startup ---------------------------------------------------------------------------

    def load(self) -> None:
        """Index what an earlier run left, oldest first; stray temporary files go."""
        found: list[tuple[float, CacheEntry]] = []
        for pinned, folder in self._dirs.items():
            folder.mkdir(parents=True, exist_ok=True)
            for item in os.scandir(folder):
                key, _, subtype = item.name.partition(".")
                if item.name.startswith(".tmp") or not subtype or not item.is_file():
                    Path(item.path).unlink(missing_ok=True)
                    continue
                stat = item.stat()
                entry = CacheEntry(key, stat.st_size, f"image/{subtype}", pinned, Path(item.path))
                found.append((stat.st_mtime, entry))
        self._entries.clear()
        self.total_bytes = 0
        for _, entry in sorted(found, key=lambda pair: pair[0]):
            self._add(entry)
        self._evict()
        logger.info(
            "image cache loaded entries=%d bytes=%d bound=%d",
            len(self._entries), self.total_bytes, self.max_bytes,
        )  # fmt: skip

    # -- reads -----------------------------------------------------------------------------

    def get(self, key: str) -> CacheEntry | None:
        """The entry, marked most recently used; None when it is not (or no longer) on disk."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        try:
            os.utime(entry.path)
        except FileNotFoundError:
            self._drop(entry)
            return None
        return entry

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    # -- writes ----------------------------------------------------------------------------

    def put(
        self, key: str, content: bytes, content_type: str, *, pinned: bool = False
    ) -> CacheEntry:
        """Store (or replace) an image, then evict down to the bound."""
        folder = self._dirs[pinned]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key}.{_subtype(content_type)}"
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        old = self._entries.get(key)
        if old is not None and old.path != path:
            self._drop(old)
        elif old is not None:
            self._forget(old)
        entry = CacheEntry(key, len(content), f"image/{_subtype(content_type)}", pinned, path)
        self._add(entry)
        self._evict()
        return entry

    def pin(self, key: str) -> None:
        """Keep an entry whatever the pressure (a library manga's cover)."""
        entry = self._entries.get(key)
        if entry is None or entry.pinned:
            return
        target = self._dirs[True] / entry.path.name
        self._dirs[True].mkdir(parents=True, exist_ok=True)
        try:
            os.replace(entry.path, target)
        except FileNotFoundError:  # evicted by another worker (they share the directory)
            self._forget(entry)
            return
        entry.path, entry.pinned = target, True

    def _add(self, entry: CacheEntry) -> None:
        self._entries[entry.key] = entry
        self.total_bytes += entry.size

    def _forget(self, entry: CacheEntry) -> None:
        if self._entries.get(entry.key) is entry:
            del self._entries[entry.key]
            self.total_bytes -= entry.size

    def _drop(self, entry: CacheEntry) -> None:
        self._forget(entry)
        entry.path.unlink(missing_ok=True)

    def _evict(self) -> None:
        if self.total_bytes <= self.max_bytes:
            return
        started = time.perf_counter()
        dropped = 0
        for entry in list(self._entries.values()):
            if self.total_bytes <= self.max_bytes:
                break
            if not entry.pinned:
                self._drop(entry)
                dropped += 1
        self.evictions += dropped
        logger.info(
            "image cache evicted entries=%d bytes=%d bound=%d ms=%d", dropped, self.total_bytes,
            self.max_bytes, int((time.perf_counter() - started) * 1000),
        )  # fmt: skip
