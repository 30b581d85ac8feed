"""Signed image tokens: what one carries comes back only from a token this key signed."""

from __future__ import annotations

import pytest

from kurobara.images.tokens import ImageRef, ImageSigner, InvalidToken

REF = ImageRef("mad", "page", "https://site.example/p/1.jpg", "https://site.example/c/1/", "c1")


def test_a_token_carries_its_reference_back() -> None:
    signer = ImageSigner("key")
    assert signer.verify(signer.sign(REF)) == REF
    assert signer.sign(REF) == signer.sign(REF)  # one image, one address: browsers cache it


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "\n",
        lambda t: t.replace(".", ".="),
        lambda t: "x" + t,
        lambda t: t[: t.index(".")],
        lambda t: "",
    ],
    ids=["newline", "padding", "prefix", "unsigned", "empty"],
)
def test_a_changed_token_is_refused(mangle: object) -> None:
    signer = ImageSigner("key")
    with pytest.raises(InvalidToken):
        signer.verify(mangle(signer.sign(REF)))  # type: ignore[operator]


def test_another_instances_token_is_refused() -> None:
    with pytest.raises(InvalidToken):
        ImageSigner("mine").verify(ImageSigner("theirs").sign(REF))
