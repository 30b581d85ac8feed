"""Writing CBZ files: pages in reading order under zero-padded names, plus a ComicInfo.xml
(the metadata comic readers such as Komga, Kavita and YACReader show).

Pages are stored uncompressed: images are compressed already, and a stored entry can be read
back without inflating anything. A CBZ is written under a temporary name and renamed into
place, so a crash never leaves a half-written file where a finished one is expected.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/avif": ".avif",
    "image/bmp": ".bmp",
    "image/svg+xml": ".svg",
}
_MEDIA_TYPES = {ext: media for media, ext in _EXTENSIONS.items()}


@dataclass(frozen=True)
class ComicMeta:
    series: str
    title: str | None = None
    number: str | None = None
    summary: str | None = None
    page_count: int = 0
    web: str | None = None
    language: str | None = None  # ISO code, as ComicInfo's LanguageISO


def page_name(index: int, media_type: str) -> str:
    """The entry name of page ``index`` (1-based): ``0001.jpg``."""
    return f"{index:04d}{_EXTENSIONS.get(media_type, '.img')}"


def media_type_of(name: str) -> str:
    """The image type an entry name written by ``page_name`` stands for."""
    return _MEDIA_TYPES.get(os.path.splitext(name)[1].lower(), "application/octet-stream")


def comic_info_xml(meta: ComicMeta) -> bytes:
    root = ElementTree.Element(
        "ComicInfo",
        {
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xmlns:xsd": "http://www.w3.org/2001/XMLSchema",
        },
    )
    fields = [
        ("Title", meta.title),
        ("Series", meta.series),
        ("Number", meta.number),
        ("Summary", meta.summary),
        ("Web", meta.web),
        ("PageCount", str(meta.page_count)),
        ("LanguageISO", meta.language),
    ]
    for tag, value in fields:
        if value:
            ElementTree.SubElement(root, tag).text = value
    body: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def write_cbz(path: Path, pages: Iterable[tuple[str, bytes]], meta: ComicMeta) -> int:
    """Write ``pages`` ((media type, bytes), in order) and ComicInfo.xml to ``path``
    atomically; the size written in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    count = 0
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
            for index, (media_type, data) in enumerate(pages, start=1):
                archive.writestr(page_name(index, media_type), data)
                count = index
            archive.writestr(
                "ComicInfo.xml",
                comic_info_xml(
                    ComicMeta(
                        series=meta.series,
                        title=meta.title,
                        number=meta.number,
                        summary=meta.summary,
                        page_count=count,
                        web=meta.web,
                        language=meta.language,
                    )
                ),
                compress_type=zipfile.ZIP_DEFLATED,
            )
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path.stat().st_size


def read_page(path: Path, index: int) -> tuple[str, bytes] | None:
    """Page ``index`` (1-based) of a CBZ written by ``write_cbz``: (media type, bytes)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if n.lower() != "comicinfo.xml")
            if not 1 <= index <= len(names):
                return None
            name = names[index - 1]
            data = archive.read(name)
    except (FileNotFoundError, zipfile.BadZipFile):
        return None
    return media_type_of(name), data
