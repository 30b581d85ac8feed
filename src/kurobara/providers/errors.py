"""Classified provider errors. Every failure talking to a source site becomes one of these, so
that search outcomes, health checks and metrics speak the same small vocabulary::

    ProviderError                  kind
    ├── ProviderTimeout            timeout        no answer within the timeout
    ├── DNSFailure                 dns            the host name does not resolve
    ├── ConnectFailure             connect        refused, reset, unreachable
    ├── TLSFailure                 tls            handshake or certificate problem
    ├── HTTPStatusFailure          http_status    a non-2xx answer (``status_code`` set)
    │   ├── BotChallenge           bot_challenge  a Cloudflare-style interstitial a browser
    │   │                                         (or FlareSolverr) can pass
    │   ├── BotBlocked             bot_blocked    a firewall block page ("Attention Required!
    │   │                                         | Cloudflare"): no solver gets past it
    │   └── RateLimited            rate_limited   HTTP 429 (``retry_after`` when given)
    ├── ResponseTooLarge           too_large      the body passed its cap (``limit`` bytes)
    ├── ParseFailure               parse          the content is not what we expected
    └── UnexpectedFailure          unexpected     anything else (a bug, most likely)

Transport failures are told apart by the exception's *type* (``ssl.SSLError``,
``socket.gaierror``, ``TimeoutError``, aiohttp's connector errors), never by words in its
message: aiohttp writes "ssl:default" into every connection error.

``UnknownManga`` (kind ``not_found``) is not a site failure: the site answered that the manga or
chapter does not exist.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from kurobara.providers.response import HttpResponse

ERROR_KINDS: tuple[str, ...] = (
    "timeout",
    "dns",
    "connect",
    "tls",
    "http_status",
    "bot_challenge",
    "bot_blocked",
    "rate_limited",
    "too_large",
    "parse",
    "unexpected",
)


class ProviderError(Exception):
    kind = "unexpected"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        # Set by the HTTP client when the failure ended an exchange with the site: how long
        # that exchange took (a rate-limit wait before it is not counted).
        self.elapsed_ms: int | None = None


class ProviderTimeout(ProviderError):
    kind = "timeout"


class DNSFailure(ProviderError):
    kind = "dns"


class ConnectFailure(ProviderError):
    kind = "connect"


class TLSFailure(ProviderError):
    kind = "tls"


class HTTPStatusFailure(ProviderError):
    kind = "http_status"


class BotChallenge(HTTPStatusFailure):
    kind = "bot_challenge"


class BotBlocked(HTTPStatusFailure):
    kind = "bot_blocked"


class RateLimited(HTTPStatusFailure):
    kind = "rate_limited"

    def __init__(
        self, message: str, *, status_code: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class ResponseTooLarge(ProviderError):
    kind = "too_large"

    def __init__(self, message: str, *, limit: int, status_code: int | None = None) -> None:
        super().__init__(message, status_code=status_code)
        self.limit = limit


class ParseFailure(ProviderError):
    kind = "parse"


class UnexpectedFailure(ProviderError):
    kind = "unexpected"


class UnknownManga(ProviderError):
    """The site says this manga or chapter does not exist (a 404 from the API, say)."""

    kind = "not_found"


# A challenge is a page a browser passes by running its script (Cloudflare's "Just a
# moment...", the older "Checking your browser", DDoS-Guard's check); a block is a firewall
# rule's refusal page, the same for every client (Cloudflare's "Attention Required!", error
# 1020 "Access denied").
_CHALLENGE_MARKERS = (
    "<title>just a moment...</title>",
    "just a moment...",
    "cf-browser-verification",
    "cf_chl_opt",
    "/cdn-cgi/challenge-platform/",
    "checking your browser before accessing",
    "ddos-guard",
)
_BLOCK_MARKERS = (
    "attention required! | cloudflare",
    "sorry, you have been blocked",
    "error code: 1020",
    "access denied | ",
)


def _head(response: HttpResponse) -> str:
    return response.content[:8000].decode("utf-8", errors="replace").lower()


def bot_wall(response: HttpResponse) -> str | None:
    """``"challenge"`` for an interstitial a browser can pass (the ``cf-mitigated: challenge``
    header, or a 403/429/503 page that is one of the well-known challenge pages), ``"block"``
    for a firewall's refusal page, ``None`` for anything else."""
    if response.headers.get("cf-mitigated", "").lower() == "challenge":
        return "challenge"
    if response.status_code not in (403, 429, 503):
        return None
    head = _head(response)
    if any(marker in head for marker in _BLOCK_MARKERS):
        return "block"
    if any(marker in head for marker in _CHALLENGE_MARKERS):
        return "challenge"
    return None


def looks_like_challenge(response: HttpResponse) -> bool:
    """A Cloudflare-style wall of either sort (a challenge or a block)."""
    return bot_wall(response) is not None


# MangaDex sends ``X-RateLimit-Retry-After`` as a Unix time; anything this large is one.
_EPOCH_THRESHOLD = 1_000_000_000


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait before asking again, from ``Retry-After`` (seconds or an HTTP date) or
    ``X-RateLimit-Retry-After`` (seconds or a Unix time); the later of the two when both are
    given, ``None`` when neither is readable."""
    now = time.time() if now is None else now
    waits = [
        wait
        for name in ("retry-after", "x-ratelimit-retry-after")
        if (wait := _seconds_from(headers.get(name, "").strip(), now)) is not None
    ]
    return max(waits) if waits else None


def _seconds_from(value: str, now: float) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        return max(0.0, moment - now)
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return max(0.0, number - now if number >= _EPOCH_THRESHOLD else number)


def raise_for_response(response: HttpResponse) -> None:
    """Raise the classified error for a response that is not a usable 2xx."""
    wall = bot_wall(response)
    if wall == "block":
        raise BotBlocked(
            f"blocked by the site's firewall (HTTP {response.status_code})",
            status_code=response.status_code,
        )
    if wall == "challenge":
        raise BotChallenge(
            f"bot challenge page (HTTP {response.status_code})", status_code=response.status_code
        )
    if response.status_code == 429:
        raise RateLimited(
            "rate limited (HTTP 429)", retry_after=retry_after_seconds(response.headers)
        )
    if not response.is_success:
        reason = response.reason or "error"
        raise HTTPStatusFailure(
            f"HTTP {response.status_code} {reason}", status_code=response.status_code
        )


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, what caused it, and the OS error an aiohttp connector error wraps."""
    chain: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop(0)
        if current is None or any(current is seen for seen in chain):
            continue
        chain.append(current)
        wrapped = getattr(current, "os_error", None)
        pending += [current.__cause__ or current.__context__]
        if isinstance(wrapped, BaseException):
            pending.append(wrapped)
    return chain


def _any(chain: list[BaseException], *types: type[BaseException]) -> bool:
    return any(isinstance(error, types) for error in chain)


def classify_transport_error(exc: BaseException) -> ProviderError:
    """Map an exception raised while talking to a site onto the error hierarchy, by type."""
    if isinstance(exc, ProviderError):
        return exc
    chain = _causes(exc)
    if _any(chain, ssl.SSLError, ssl.CertificateError, aiohttp.ClientSSLError):
        return TLSFailure(f"TLS error: {exc}")
    if _any(chain, socket.gaierror, aiohttp.ClientConnectorDNSError):
        return DNSFailure(f"DNS lookup failed: {exc}")
    if _any(chain, TimeoutError):
        return ProviderTimeout("timed out waiting for the site")
    if isinstance(exc, aiohttp.InvalidURL):
        return UnexpectedFailure(f"invalid URL: {exc}")
    if _any(chain, OSError, aiohttp.ClientError):
        return ConnectFailure(f"connection failed: {exc or type(exc).__name__}")
    return UnexpectedFailure(f"{type(exc).__name__}: {exc}")
