"""CryptoJS's password-based AES, as WordPress plugins use it in the browser (the Madara
theme's "chapter protector"): AES-256-CBC with PKCS#7 padding, key and IV derived from the
password and an 8-byte salt by OpenSSL's ``EVP_BytesToKey`` with MD5 and one round."""

from __future__ import annotations

import hashlib

KEY_BYTES = 32
IV_BYTES = 16


class CryptoJSError(ValueError):
    """The ciphertext, salt or password does not decrypt to a padded plaintext."""


def evp_bytes_to_key(password: bytes, salt: bytes) -> tuple[bytes, bytes]:
    derived = b""
    block = b""
    while len(derived) < KEY_BYTES + IV_BYTES:
        block = hashlib.md5(block + password + salt, usedforsecurity=False).digest()
        derived += block
    return derived[:KEY_BYTES], derived[KEY_BYTES : KEY_BYTES + IV_BYTES]


def cryptojs_decrypt(ciphertext: bytes, salt: bytes, password: bytes) -> str:
    if len(salt) != 8 or not ciphertext or len(ciphertext) % 16:
        raise CryptoJSError("not CryptoJS ciphertext (salt of 8 bytes, whole AES blocks)")
    from cryptography.hazmat.primitives import padding  # loaded by the first kind that needs it
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key, iv = evp_bytes_to_key(password, salt)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
        return plain.decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise CryptoJSError("wrong key: the plaintext is not padded text") from exc


def cryptojs_encrypt(plaintext: str, salt: bytes, password: bytes) -> bytes:
    """The inverse, for the fake sites that play the plugin's part."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key, iv = evp_bytes_to_key(password, salt)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()
