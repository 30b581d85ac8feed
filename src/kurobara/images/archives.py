"""Reading an uploaded CBZ/ZIP into chapters, refusing what must not be stored.

The checks run on the archive's directory before anything is written, so a refused upload
leaves nothing behind. Every refusal is an ``ArchiveRefused`` with a ``kind``::

    ArchiveRefused
      not_zip          not a ZIP archive (or a damaged one)
      encrypted        an entry is password-protected
      path_traversal   an entry name is absolute or climbs out with ".."
      not_image        an entry is neither an image nor ComicInfo.xml
      too_many_entries more entries than MAX_ENTRIES
      zip_bomb         an entry expands far more than images do (MAX_RATIO)
      too_large        the unpacked total is over the configured bound (HTTP 413)
      empty            no image in the archive

Entry names are only read, never used as paths: pages are re-packed under names of our own.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import BinaryIO
from xml.etree import ElementTree

MAX_ENTRIES = 5000
# JPEG, PNG and WebP barely compress; a page that inflates a hundredfold is not an image.
MAX_RATIO = 100
# Entries this small may compress well (a blank page) without being a bomb.
RATIO_FREE_BYTES = 1024 * 1024
COMIC_INFO = "comicinfo.xml"
MAX_COMIC_INFO_BYTES = 256 * 1024

# Extension -> media type; the first bytes must match one of the signatures below too.
IMAGE_TYPES: dict[str, str] = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
}


class ArchiveRefused(ValueError):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def sniff_image(head: bytes) -> str | None:
    """The media type that an image's first bytes announce, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return "image/avif"
    return None


@dataclass(frozen=True)
class ComicInfo:
    series: str | None = None
    number: str | None = None
    title: str | None = None
    summary: str | None = None


@dataclass
class ChapterDraft:
    """One chapter found in an archive: its pages (entry names, in reading order)."""

    folder: str
    title: str
    number: str | None
    pages: list[str] = field(default_factory=list)


@dataclass
class ArchiveContents:
    chapters: list[ChapterDraft]
    comic_info: ComicInfo | None
    unpacked_bytes: int


def _natural_key(name: str) -> list[object]:
    """ "page2" before "page10", as people number files."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


_CHAPTER_NUMBER = re.compile(r"(?:ch(?:apter)?|#)[\s._-]*(\d+(?:\.\d+)?)", re.IGNORECASE)
_ANY_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


def chapter_number(name: str) -> str | None:
    """The chapter number a folder or file name states: "Chapter 12.5" -> "12.5"; else its last
    number ("Vol 2 - 007" -> "007" read as "7"); None without one."""
    match = _CHAPTER_NUMBER.search(name) or None
    found = match.group(1) if match else None
    if found is None:
        numbers = _ANY_NUMBER.findall(name)
        found = numbers[-1] if numbers else None
    if found is None:
        return None
    whole, _, fraction = found.partition(".")
    return str(int(whole)) + (f".{fraction}" if fraction else "")


def safe_entry_path(name: str) -> PurePosixPath:
    """The entry's path, refused when it is absolute, names a drive or climbs out."""
    if "\x00" in name:
        raise ArchiveRefused("path_traversal", "an entry name contains a NUL character")
    normalized = name.replace("\\", "/")
    path = PurePosixPath(normalized)
    drive = re.match(r"^[A-Za-z]:", normalized)
    if normalized.startswith("/") or drive or ".." in path.parts:
        raise ArchiveRefused("path_traversal", f"entry {name!r} points outside the archive")
    return path


def _comic_info(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> ComicInfo | None:
    if info.file_size > MAX_COMIC_INFO_BYTES:
        raise ArchiveRefused("too_large", f"{info.filename} is larger than 256 KiB")
    try:
        root = ElementTree.fromstring(archive.read(info))
    except ElementTree.ParseError:
        return None

    def text(tag: str) -> str | None:
        value = root.findtext(tag)
        return value.strip()[:500] or None if value else None

    return ComicInfo(
        series=text("Series"), number=text("Number"), title=text("Title"), summary=text("Summary")
    )


def _check_entry(info: zipfile.ZipInfo) -> None:
    if info.flag_bits & 0x1:
        raise ArchiveRefused("encrypted", f"entry {info.filename!r} is encrypted")
    if info.file_size > RATIO_FREE_BYTES and info.file_size > MAX_RATIO * max(
        info.compress_size, 1
    ):
        raise ArchiveRefused(
            "zip_bomb",
            f"entry {info.filename!r} expands {info.file_size // max(info.compress_size, 1)}"
            f" times (at most {MAX_RATIO})",
        )


def _check_image(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    expected = IMAGE_TYPES[PurePosixPath(info.filename).suffix.lower()]
    try:
        with archive.open(info) as entry:
            head = entry.read(16)
    except (
        zipfile.BadZipFile,
        OSError,
        EOFError,
        RuntimeError,
    ) as exc:  # RuntimeError: encrypted or unsupported compression
        raise ArchiveRefused("not_zip", f"entry {info.filename!r} cannot be read: {exc}") from exc
    found = sniff_image(head)
    # A .jpg that is really a PNG is still an image; a .jpg that is text is not.
    if found is None:
        raise ArchiveRefused(
            "not_image", f"entry {info.filename!r} is not a {expected.split('/')[1]} image"
        )


def read_archive(
    fileobj: BinaryIO, *, default_title: str, max_unpacked_bytes: int
) -> ArchiveContents:
    """The chapters of an archive: images at its root are one chapter titled ``default_title``,
    each folder of images another (titled by the folder). Raises ``ArchiveRefused``."""
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ArchiveRefused("not_zip", "the file is not a ZIP/CBZ archive") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ArchiveRefused(
                "too_many_entries", f"the archive has {len(infos)} entries (at most {MAX_ENTRIES})"
            )
        total = 0
        folders: dict[str, list[str]] = {}
        comic_info: ComicInfo | None = None
        for info in infos:
            path = safe_entry_path(info.filename)
            if info.is_dir():
                continue
            _check_entry(info)
            total += info.file_size
            if total > max_unpacked_bytes:
                raise ArchiveRefused(
                    "too_large",
                    f"the archive unpacks to more than {max_unpacked_bytes // (1024 * 1024)} MiB",
                )
            if path.name.lower() == COMIC_INFO:
                comic_info = comic_info or _comic_info(archive, info)
                continue
            if path.suffix.lower() not in IMAGE_TYPES:
                raise ArchiveRefused(
                    "not_image", f"entry {info.filename!r} is not an image (nor ComicInfo.xml)"
                )
            _check_image(archive, info)
            folders.setdefault(str(path.parent), []).append(info.filename)
        if not folders:
            raise ArchiveRefused("empty", "the archive holds no image")
        chapters = []
        for folder in sorted(folders, key=_natural_key):
            name = default_title if folder == "." else PurePosixPath(folder).name
            pages = sorted(folders[folder], key=_natural_key)
            chapters.append(ChapterDraft(folder, name, chapter_number(name), pages))
        if len(chapters) == 1 and comic_info is not None:
            chapters[0].number = comic_info.number or chapters[0].number
            chapters[0].title = comic_info.title or chapters[0].title
        return ArchiveContents(chapters=chapters, comic_info=comic_info, unpacked_bytes=total)
