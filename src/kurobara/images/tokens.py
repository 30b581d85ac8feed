"""Signed image tokens: what ``/api/v1/images/{token}`` may fetch, decided when the token was
made (from a URL a provider's own parser produced) and checked before anything else happens.

A token is ``<payload>.<signature>``: the payload a base64url JSON list (version, provider id,
kind, upstream URL, Referer, chapter id), the signature the first 16 bytes of an HMAC-SHA256
of the payload under a key derived from the instance secret. The same image always gets the
same token, so browsers and the disk cache can keep it. A token that does not verify is
refused before any lookup: the proxy cannot be made to fetch an arbitrary URL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Literal

ImageKind = Literal["page", "cover"]
KINDS: frozenset[str] = frozenset({"page", "cover"})
VERSION = 1
MAX_TOKEN_LENGTH = 6000  # three 1000-character URLs and then some, base64-encoded
_SIGNATURE_BYTES = 16
_KEY_PURPOSE = b"kurobara image token v1"


class InvalidToken(ValueError):
    """The token is malformed, or its signature is not this instance's."""


@dataclass(frozen=True, slots=True)
class ImageRef:
    provider_id: str
    kind: ImageKind
    url: str  # as the provider's parser produced it
    referer: str | None = None  # the page the image appeared on: the chapter's or the manga's
    chapter: str | None = None  # the chapter's external id (MangaDex re-asks for a node)

    @property
    def cache_key(self) -> str:
        """One name per upstream image, whatever page it was shown on."""
        raw = f"{self.provider_id}\x00{self.url}".encode()
        return hashlib.sha256(raw).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ImageSigner:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), _KEY_PURPOSE, hashlib.sha256).digest()

    def _signature(self, payload: str) -> bytes:
        digest = hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest()
        return digest[:_SIGNATURE_BYTES]

    def sign(self, ref: ImageRef) -> str:
        fields = [VERSION, ref.provider_id, ref.kind, ref.url, ref.referer, ref.chapter]
        payload = _b64(json.dumps(fields, separators=(",", ":")).encode())
        return f"{payload}.{_b64(self._signature(payload))}"

    def verify(self, token: str) -> ImageRef:
        """The reference a token of ours carries; ``InvalidToken`` for anything else."""
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise InvalidToken("malformed image token")
        payload, signature = token.split(".")
        try:
            given = _unb64(signature)
            expected = self._signature(payload)
        except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
            raise InvalidToken("malformed image token") from exc
        if not hmac.compare_digest(given, expected):
            raise InvalidToken("image token not signed by this server")
        return _parse(payload)


def _parse(payload: str) -> ImageRef:
    try:
        fields = json.loads(_unb64(payload))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("malformed image token") from exc
    match fields:
        case [1, str(provider), str(kind), str(url), str() | None as referer, str() | None as ch]:
            if kind in KINDS:
                return ImageRef(provider, kind, url, referer, ch)  # type: ignore[arg-type]
    raise InvalidToken("malformed image token")
