"""A failure in plain words for people: what ``[Errno -2] Name or service not known`` or a
classified kind means, for the UI to show with the raw text one click away (``<details>``).

One pure function, ``in_words(kind, message, http_status)``. The operating system's error
number in the message decides first (it is the most precise), then the classified kind
(``providers/errors.py``), then the message itself when nothing better is known.
"""

from __future__ import annotations

import re

# errno values as Linux and getaddrinfo report them (negative: EAI_* of name resolution).
_ERRNO_WORDS: dict[int, str] = {
    -2: "The site's address could not be found (its name does not resolve)",
    -3: "The site's name could not be looked up right now (DNS did not answer)",
    -5: "The site's name has no address (DNS)",
    2: "A file Kurobara needs is missing",
    13: "Kurobara is not allowed to read or write a file it needs",
    28: "The server's disk is full",
    101: "This server cannot reach the network",
    104: "The site closed the connection",
    110: "The site did not answer in time",
    111: "The site refused the connection (nothing listens there)",
    113: "There is no network route to the site",
}
CONNECT_FAILED = "Could not connect to the site: nothing answered at its address"
_ERRNO = re.compile(r"\[Errno (-?\d+)\]")
# Messages that say what happened without an errno.
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"certificate verify failed|CERTIFICATE_VERIFY_FAILED|SSLCertVerification", re.I),
     "The site's security certificate was not accepted"),
    (re.compile(r"name or service not known|nodename nor servname|getaddrinfo failed", re.I),
     _ERRNO_WORDS[-2]),
    (re.compile(r"temporary failure in name resolution", re.I), _ERRNO_WORDS[-3]),
    (re.compile(r"connection refused", re.I), _ERRNO_WORDS[111]),
    # asyncio's words for a connect() that failed (refused, unreachable): no errno in them.
    (re.compile(r"connect call failed", re.I), CONNECT_FAILED),
    (re.compile(r"connection reset|server disconnected", re.I), _ERRNO_WORDS[104]),
    (re.compile(r"no space left on device", re.I), _ERRNO_WORDS[28]),
    (re.compile(r"permission denied", re.I), _ERRNO_WORDS[13]),
)  # fmt: skip
_KIND_WORDS: dict[str, str] = {
    "timeout": "The site did not answer in time",
    "dns": "The site's address could not be found",
    "connect": "Could not connect to the site",
    "tls": "A secure connection to the site could not be made",
    "bot_challenge": "The site showed an anti-bot check instead of its pages",
    "rate_limited": "The site asked for fewer requests (too many too fast)",
    "parse": "The site's pages have changed: Kurobara could not read them",
    "too_large": "The site sent more data than Kurobara accepts",
    "not_found": "The site does not have this (any more)",
    "unexpected": "Something unexpected went wrong",
}


def _http_words(status: int | None) -> str:
    if status is None:
        return "The site answered with an error"
    if status in (401, 403):
        return f"The site refused access (HTTP {status})"
    if status == 404:
        return "The site does not have this page (HTTP 404)"
    if status >= 500:
        return f"The site has a problem of its own (HTTP {status})"
    return f"The site answered with an error (HTTP {status})"


def in_words(kind: str | None, message: str | None, http_status: int | None = None) -> str | None:
    """The failure said for people; None when there is no failure."""
    text = message or ""
    if match := _ERRNO.search(text):
        words = _ERRNO_WORDS.get(int(match.group(1)))
        if words is not None:
            return words
    for pattern, words in _PHRASES:
        if pattern.search(text):
            return words
    if kind == "http_status" or (kind is None and http_status is not None):
        return _http_words(http_status)
    if kind in _KIND_WORDS:
        return _KIND_WORDS[kind]
    if text:
        return text
    return "Something went wrong" if kind else None
