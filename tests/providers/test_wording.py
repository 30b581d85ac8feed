"""Failures in plain words (issue 16 item 6): the OS error number first, then known phrases,
then the classified kind, then the message itself."""

from __future__ import annotations

import pytest

from kurobara.providers.wording import in_words


@pytest.mark.parametrize(
    ("kind", "message", "status", "expected"),
    [
        ("dns", "Cannot connect to host x.org:443 ssl:default [Errno -2] Name or service not "
         "known", None, "The site's address could not be found (its name does not resolve)"),
        ("dns", "[Errno -3] Temporary failure in name resolution", None,
         "The site's name could not be looked up right now (DNS did not answer)"),
        ("connect", "Cannot connect to host 127.0.0.1:9 ssl:default [Errno 111] Connect call "
         "failed ('127.0.0.1', 9)", None,
         "The site refused the connection (nothing listens there)"),
        ("connect", "[Errno 113] No route to host", None, "There is no network route to the site"),
        ("connect", "[Errno 101] Network is unreachable", None,
         "This server cannot reach the network"),
        ("unexpected", "[Errno 28] No space left on device: '/data/x'", None,
         "The server's disk is full"),
        ("unexpected", "[Errno 13] Permission denied: '/data'", None,
         "Kurobara is not allowed to read or write a file it needs"),
        ("tls", "Cannot connect to host x.org:443 ssl:True [SSLCertVerificationError: (1, "
         "'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')]", None,
         "The site's security certificate was not accepted"),
        ("connect", "Server disconnected", None, "The site closed the connection"),
        ("connect", "connection failed: Cannot connect to host 127.0.0.1:9 ssl:default [Connect "
         "call failed ('127.0.0.1', 9)]", None,
         "Could not connect to the site: nothing answered at its address"),
        ("dns", "DNS lookup failed: Cannot connect to host nonexistent.invalid:80 ssl:default "
         "[Name or service not known]", None,
         "The site's address could not be found (its name does not resolve)"),
        ("dns", "getaddrinfo failed", None,
         "The site's address could not be found (its name does not resolve)"),
        # An errno this table does not know: the phrase, else the kind, decides.
        ("connect", "[Errno 99] Cannot assign requested address", None,
         "Could not connect to the site"),
        ("timeout", "no answer within 30 s", None, "The site did not answer in time"),
        ("http_status", "HTTP 503", 503, "The site has a problem of its own (HTTP 503)"),
        ("http_status", "HTTP 403", 403, "The site refused access (HTTP 403)"),
        ("http_status", "HTTP 404", 404, "The site does not have this page (HTTP 404)"),
        ("http_status", "HTTP 418", 418, "The site answered with an error (HTTP 418)"),
        (None, None, 500, "The site has a problem of its own (HTTP 500)"),
        ("bot_challenge", "Cloudflare challenge page", None,
         "The site showed an anti-bot check instead of its pages"),
        ("rate_limited", "HTTP 429", 429, "The site asked for fewer requests (too many too fast)"),
        ("parse", "no element matches .manga-title", None,
         "The site's pages have changed: Kurobara could not read them"),
        ("something_new", "the words the provider chose", None, "the words the provider chose"),
        ("something_new", None, None, "Something went wrong"),
        (None, None, None, None),
    ],
)  # fmt: skip
def test_in_words(kind: str | None, message: str | None, status: int | None, expected: str) -> None:
    assert in_words(kind, message, status) == expected
