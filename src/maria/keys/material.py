"""New key material, and keys sealed for the database.

A stored key's secret (the HS256 secret, or the Ed25519 / P-256 private scalar) is sealed with
AES-256-GCM under a key derived from ``MARIA_SECRET_KEY`` (HKDF-SHA256), with the key's id and
algorithm as associated data: the database alone reveals no key, and a sealed secret moved to
another row does not open. An instance with another ``MARIA_SECRET_KEY`` cannot open them
(and says so once in its log).
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from maria.keys.jws import EDDSA, ES256, HS256, KEY_TYPES, SigningKey

_VERSION = b"\x01"
_NONCE_BYTES = 12


class SealBroken(Exception):
    """A sealed secret that this ``MARIA_SECRET_KEY`` does not open."""


def new_kid() -> str:
    return secrets.token_urlsafe(12)  # 16 base64url characters, like base_kid's


def new_secret(alg: str) -> bytes:
    """Fresh key material for ``alg``, in the form ``SigningKey`` classes take."""
    if alg == HS256:
        return secrets.token_bytes(32)
    if alg == EDDSA:
        return Ed25519PrivateKey.generate().private_bytes_raw()
    if alg == ES256:
        private = ec.generate_private_key(ec.SECP256R1())
        return private.private_numbers().private_value.to_bytes(32, "big")
    raise ValueError(f"unknown algorithm {alg!r}")


def make_key(kid: str, alg: str, secret: bytes) -> SigningKey:
    return KEY_TYPES[alg](kid, secret)


class Sealer:
    """Seals and opens key secrets with the key derived from ``MARIA_SECRET_KEY``."""

    def __init__(self, master: bytes) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"maria", info=b"signing keys at rest v1"
        ).derive(master)
        self._aead = AESGCM(derived)

    @staticmethod
    def _context(kid: str, alg: str) -> bytes:
        return f"maria signing key|{kid}|{alg}".encode()

    def seal(self, kid: str, alg: str, secret: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, secret, self._context(kid, alg))

    def open(self, kid: str, alg: str, sealed: bytes) -> bytes:
        if sealed[:1] != _VERSION or len(sealed) < 1 + _NONCE_BYTES + 16:
            raise SealBroken(kid)
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, self._context(kid, alg))
        except InvalidTag:
            raise SealBroken(kid) from None
