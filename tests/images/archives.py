"""Archives for the tests: real PNG/JPEG bytes in real ZIP files, built in memory."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable


def png(seed: int = 0, size: int = 4) -> bytes:
    """A valid ``size`` by ``size`` grey PNG; ``seed`` changes its pixels (so pages differ)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + bytes([(seed * 37 + x) % 256 for x in range(size)]) for _ in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def make_zip(
    entries: Iterable[tuple[str, bytes]], *, compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def pages(count: int, *, folder: str = "", start: int = 0) -> list[tuple[str, bytes]]:
    prefix = f"{folder}/" if folder else ""
    return [(f"{prefix}page{i}.png", png(start + i)) for i in range(1, count + 1)]


def comic_info(series: str, number: str | None = None, title: str | None = None) -> bytes:
    parts = [f"<Series>{series}</Series>"]
    if number:
        parts.append(f"<Number>{number}</Number>")
    if title:
        parts.append(f"<Title>{title}</Title>")
    return ("<?xml version='1.0'?><ComicInfo>" + "".join(parts) + "</ComicInfo>").encode()
