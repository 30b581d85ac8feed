"""Classified provider errors. Every failure talking to a source site becomes one of these, so
that search outcomes, health checks and metrics speak the same small vocabulary::

    ProviderError                  kind
    ├── ProviderTimeout            timeout        no answer within the timeout
    ├── DNSFailure                 dns            the host name does not resolve
    ├── ConnectFailure             connect        refused, reset, unreachable
    ├── TLSFailure                 tls            handshake or certificate problem
    ├── HTTPStatusFailure          http_status    a non-2xx answer (``status_code`` set)
    │   ├── BotChallenge           bot_challenge  a Cloudflare-style interstitial
    │   └── RateLimited            rate_limited   HTTP 429 (``retry_after`` when given)
    ├── ParseFailure               parse          the content is not what we expected
    └── UnexpectedFailure          unexpected     anything else (a bug, most likely)

``UnknownManga`` (kind ``not_found``) is not a site failure: the site answered that the manga or
chapter does not exist.
"""

from __future__ import annotations

import socket
import ssl

import httpx

ERROR_KINDS: tuple[str, ...] = (
    "timeout",
    "dns",
    "connect",
    "tls",
    "http_status",
    "bot_challenge",
    "rate_limited",
    "parse",
    "unexpected",
)


class ProviderError(Exception):
    kind = "unexpected"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


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


class RateLimited(HTTPStatusFailure):
    kind = "rate_limited"

    def __init__(
        self, message: str, *, status_code: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class ParseFailure(ProviderError):
    kind = "parse"


class UnexpectedFailure(ProviderError):
    kind = "unexpected"


class UnknownManga(ProviderError):
    """The site says this manga or chapter does not exist (a 404 from the API, say)."""

    kind = "not_found"


_CHALLENGE_MARKERS = (
    "just a moment...",
    "cf-browser-verification",
    "challenge-platform",
    "cf_chl_opt",
    "attention required! | cloudflare",
    "checking your browser before accessing",
    "ddos-guard",
)


def looks_like_challenge(response: httpx.Response) -> bool:
    """A Cloudflare-style interstitial: the ``cf-mitigated`` header, or a 403/503 whose page is
    one of the well-known challenge pages."""
    if response.headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    if response.status_code not in (403, 429, 503):
        return False
    head = response.text[:4000].lower() if response.content else ""
    return any(marker in head for marker in _CHALLENGE_MARKERS)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def raise_for_response(response: httpx.Response) -> None:
    """Raise the classified error for a response that is not a usable 2xx."""
    if looks_like_challenge(response):
        raise BotChallenge(
            f"bot challenge page (HTTP {response.status_code})", status_code=response.status_code
        )
    if response.status_code == 429:
        raise RateLimited("rate limited (HTTP 429)", retry_after=_retry_after(response))
    if not response.is_success:
        reason = response.reason_phrase or "error"
        raise HTTPStatusFailure(
            f"HTTP {response.status_code} {reason}", status_code=response.status_code
        )


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def classify_transport_error(exc: Exception) -> ProviderError:
    """Map an exception raised while talking to a site onto the error hierarchy."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return ProviderTimeout("timed out waiting for the site")
    chain = _causes(exc)
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, ssl.SSLError | ssl.CertificateError) for e in chain) or any(
        marker in text for marker in ("ssl", "certificate", "tls")
    ):
        return TLSFailure(f"TLS error: {exc}")
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
        marker in text
        for marker in (
            "name or service not known",
            "nodename nor servname",
            "temporary failure in name resolution",
            "no address associated",
            "name resolution",
        )
    ):
        return DNSFailure(f"DNS lookup failed: {exc}")
    if isinstance(exc, httpx.TransportError | ConnectionError | OSError):
        return ConnectFailure(f"connection failed: {exc or type(exc).__name__}")
    return UnexpectedFailure(f"{type(exc).__name__}: {exc}")
