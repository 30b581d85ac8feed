"""The request guard: one ASGI layer in front of every route that refuses what no route may see.

- A body larger than its route's limit is a 413, decided from ``Content-Length`` before a byte
  is read, or while a chunked body streams in: nothing past the limit is read, and no
  authentication, parsing or database work happens first.
- A NUL character anywhere text enters (path, query string, form, JSON or multipart body) is a
  422, as the schemas' own NUL checks answer: PostgreSQL text cannot hold it, and no name,
  id or note needs it.

- A path holding any other control character is a 404 here, before routing: Starlette anchors
  each route's regex with ``$``, which also matches before a trailing newline, so that
  ``/api/v1/library/%0A`` reached the list endpoint. No route and no id holds a control
  character, so refusing them keeps every path parameter exact, for every route at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NUL_REFUSED = "NUL characters are not allowed in requests"
# A JSON string escape \u0000 preceded by an even number of backslashes (an odd number would be
# a literal backslash followed by the text "u0000").
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_FORM_NUL = re.compile(rb"%00")
_CONTROL = re.compile(r"[\x01-\x1f\x7f]")


@dataclass(frozen=True)
class BodyLimit:
    """Requests whose path starts with ``prefix`` may send up to ``max_bytes``. A ``binary``
    body (an archive upload) is streamed to the route as it arrives, counted but neither held in
    memory nor searched for NUL (file bytes hold NULs; the route checks its text fields)."""

    prefix: str
    max_bytes: int
    binary: bool = False


class BodyTooLarge(Exception):
    pass


class RequestGuard:
    """ASGI middleware; ``limits`` are checked in order, the first matching prefix wins, and
    ``default_max_bytes`` applies to every other path."""

    def __init__(
        self, app: ASGIApp, *, default_max_bytes: int, limits: Sequence[BodyLimit] = ()
    ) -> None:
        self.app = app
        self.default_max_bytes = default_max_bytes
        self.limits = tuple(limits)

    def max_bytes(self, path: str) -> int:
        return self.limit_for(path).max_bytes

    def limit_for(self, path: str) -> BodyLimit:
        for limit in self.limits:
            if path.startswith(limit.prefix):
                return limit
        return BodyLimit(prefix="", max_bytes=self.default_max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _nul_in_url(scope):
            await _refuse(send, 422, NUL_REFUSED)
            return
        if _CONTROL.search(scope["path"]):
            await _refuse(send, 404, "Not Found")
            return
        headers = _headers(scope)
        if "content-length" not in headers and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return
        rule = self.limit_for(scope["path"])
        limit = rule.max_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, 413, _too_large(limit))
            return
        if rule.binary:
            await _stream_counted(self.app, scope, receive, send, limit)
            return
        try:
            body = await _read_body(receive, limit)
        except BodyTooLarge:
            await _refuse(send, 413, _too_large(limit))
            return
        if _has_nul(body, headers.get("content-type", "")):
            await _refuse(send, 422, NUL_REFUSED)
            return
        await self.app(scope, _replay(body, receive), send)


def _nul_in_url(scope: Scope) -> bool:
    raw_path: bytes = scope.get("raw_path") or b""
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"%00" in raw_path or b"%00" in query or b"\x00" in query


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


def _too_large(limit: int) -> str:
    return f"Request body too large: this endpoint accepts at most {limit} bytes"


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, or ``BodyTooLarge`` as soon as it passes ``limit`` (the rest is never
    read). A disconnect mid-body leaves what arrived; the route then sees a short body."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _stream_counted(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int
) -> None:
    """Pass the body through as it arrives; past ``limit`` the route sees a disconnect and,
    whatever it then answers, the client gets the 413 instead."""
    size = 0
    too_large = False
    replaced = False

    async def counted() -> Message:
        nonlocal size, too_large
        if too_large:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                too_large = True
                return {"type": "http.disconnect"}
        return message

    async def guarded(message: Message) -> None:
        nonlocal replaced
        if replaced:
            return
        if too_large and message["type"] == "http.response.start":
            replaced = True
            await _refuse(send, 413, _too_large(limit))
            return
        await send(message)

    try:
        await app(scope, counted, guarded)
    except Exception:
        if not too_large:
            raise
        if not replaced:
            await _refuse(send, 413, _too_large(limit))


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _has_nul(body: bytes, content_type: str) -> bool:
    if b"\x00" in body:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        return _FORM_NUL.search(body) is not None
    if media == "application/json" or media.endswith("+json"):
        return _JSON_NUL.search(body) is not None
    return False


async def _refuse(send: Send, status: int, detail: str) -> None:
    # A 422 has the shape of FastAPI's validation errors, which the OpenAPI document promises.
    content: object = (
        [{"type": "value_error", "loc": ["request"], "msg": detail}] if status == 422 else detail
    )
    body = json.dumps({"detail": content}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 413:
        # The unread rest of the body would otherwise be taken for the next request.
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
