"""The answer of a site as the provider kinds see it: status, final URL, headers and a body that
the shared client has already read in full (within its cap). Kinds never see the HTTP library's
own response type, so the client underneath can change without touching them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status_code: int
    url: str  # after redirects
    headers: Mapping[str, str]  # case-insensitive
    content: bytes
    reason: str = ""
    charset: str | None = None  # from Content-Type
    # Milliseconds from sending the request to the last byte of the body: the exchange alone,
    # without the wait for a rate-limit slot.
    elapsed_ms: int = 0
    _text: list[str] = field(default_factory=list, repr=False, compare=False)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        """The body decoded with the charset the site declared, else UTF-8; undecodable bytes
        become U+FFFD rather than an error (pages are parsed leniently anyway)."""
        if not self._text:
            self._text.append(self.content.decode(self._codec(), errors="replace"))
        return self._text[0]

    def json(self) -> Any:
        """The body as JSON; ``ValueError`` when it is not."""
        return json.loads(self.content.decode(self._codec(), errors="strict"))

    def _codec(self) -> str:
        if self.charset:
            try:
                "".encode(self.charset)
            except LookupError:
                return "utf-8"
            return self.charset
        return "utf-8"
