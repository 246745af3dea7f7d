"""JWS pieces: strict base64url, the three kinds of signing key, and the key set a verifier
reads on every token.

A key signs and verifies compact-JWS signing input and knows its canonical header segment
(``{"alg":...,"typ":"JWT","kid":...}``), so that a verifier finds the key of a token Maria
issued with one dictionary lookup on the header's exact text, without parsing it.

Signatures are checked strictly: HS256 by comparing the base64url text of the expected MAC
with the text received (so only the canonical encoding passes); Ed25519 and P-256 ones must
have the exact length and canonical encoding, and a P-256 signature must be in the low-S
form Maria signs (so no valid signature has a second valid spelling).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from maria.errors import InvalidToken

HS256, EDDSA, ES256 = "HS256", "EdDSA", "ES256"
ALGORITHMS = (HS256, EDDSA, ES256)
# What a key id may be: Maria's are 16 base64url characters. Anything else (a path, SQL, a
# URL) is refused before any lookup.
KID = re.compile(r"[A-Za-z0-9_-]{1,64}")

_URL_TO_STD = bytes.maketrans(b"-_", b"+/")
_PADDING = {0: b"", 2: b"==", 3: b"="}
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    """Strict unpadded base64url: refuse padding, the standard alphabet and stray characters.

    Applied to segments whose exact text a signature covers (the unused low bits of the last
    character then carry no meaning an attacker could exploit), and to signatures, whose
    canonical re-encoding the verifiers check.
    """
    decoded: bytes | None = None
    if len(segment) % 4 != 1 and "=" not in segment and "+" not in segment and "/" not in segment:
        try:
            raw = segment.encode("ascii").translate(_URL_TO_STD) + _PADDING[len(segment) % 4]
            decoded = binascii.a2b_base64(raw, strict_mode=True)
        except (binascii.Error, ValueError):
            pass
    if decoded is None:
        # Raised outside the ``except``: no __context__ whose traceback's frames would tie
        # the request's scope into a reference cycle (see Authentication._checked).
        raise InvalidToken("Malformed token encoding")
    return decoded


def json_segment(obj: object) -> str:
    return b64url_encode(json.dumps(obj, separators=(",", ":")).encode())


def base_kid(secret: bytes) -> str:
    """The key id of ``MARIA_SECRET_KEY`` itself: derived from it, so every instance agrees
    without asking the database (and it says no more about the secret than a token does)."""
    return b64url_encode(hmac.new(secret, b"maria key id", hashlib.sha256).digest()[:12])


def _decoded_signature(signature: str, size: int) -> bytes | None:
    """The raw signature if ``signature`` is its canonical base64url text, else None."""
    if len(signature) != (size * 4 + 2) // 3:
        return None
    try:
        raw = b64url_decode(signature)
    except InvalidToken:
        return None
    return raw if len(raw) == size and b64url_encode(raw) == signature else None


class SigningKey:
    """One key: signs and verifies JWS signing input (ASCII text)."""

    alg: str

    def __init__(self, kid: str) -> None:
        if KID.fullmatch(kid) is None:
            raise ValueError("a key id must be 1-64 base64url characters")
        self.kid = kid
        self.header_segment = json_segment({"alg": self.alg, "typ": "JWT", "kid": kid})

    def sign(self, signing_input: str) -> str:
        """The base64url signature."""
        raise NotImplementedError

    def verify(self, signing_input: str, signature: str) -> bool:
        raise NotImplementedError

    def public_jwk(self) -> dict[str, str] | None:
        """The public key as a JWK (RFC 7517), or None for a shared secret."""
        return None


class HmacKey(SigningKey):
    alg = HS256

    def __init__(self, kid: str, secret: bytes) -> None:
        if not secret:
            raise ValueError("empty signing secret")
        super().__init__(kid)
        self._mac = hmac.new(secret, digestmod=hashlib.sha256)

    def sign(self, signing_input: str) -> str:
        mac = self._mac.copy()
        mac.update(signing_input.encode("ascii"))
        return b64url_encode(mac.digest())

    def verify(self, signing_input: str, signature: str) -> bool:
        # Both ASCII (the verifier refuses other tokens first): compare_digest cannot raise.
        return hmac.compare_digest(self.sign(signing_input), signature)


class Ed25519Key(SigningKey):
    alg = EDDSA

    def __init__(self, kid: str, private: bytes) -> None:
        super().__init__(kid)
        self._private = Ed25519PrivateKey.from_private_bytes(private)
        self._public = self._private.public_key()

    def sign(self, signing_input: str) -> str:
        return b64url_encode(self._private.sign(signing_input.encode("ascii")))

    def verify(self, signing_input: str, signature: str) -> bool:
        raw = _decoded_signature(signature, 64)
        if raw is None:
            return False
        try:
            self._public.verify(raw, signing_input.encode("ascii"))
        except InvalidSignature:
            return False
        return True

    def public_jwk(self) -> dict[str, str]:
        x = b64url_encode(self._public.public_bytes_raw())
        return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.kid, "alg": EDDSA, "use": "sig"}


class P256Key(SigningKey):
    alg = ES256

    def __init__(self, kid: str, private: bytes) -> None:
        super().__init__(kid)
        self._private = ec.derive_private_key(int.from_bytes(private, "big"), ec.SECP256R1())
        self._public = self._private.public_key()

    def sign(self, signing_input: str) -> str:
        der = self._private.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        if s > _P256_ORDER // 2:
            s = _P256_ORDER - s  # low S: the one spelling of this signature Maria accepts
        return b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def verify(self, signing_input: str, signature: str) -> bool:
        raw = _decoded_signature(signature, 64)
        if raw is None:
            return False
        r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        if not (0 < r < _P256_ORDER and 0 < s <= _P256_ORDER // 2):
            return False
        try:
            self._public.verify(
                encode_dss_signature(r, s), signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())
            )
        except InvalidSignature:
            return False
        return True

    def public_jwk(self) -> dict[str, str]:
        numbers = self._public.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(numbers.x.to_bytes(32, "big")),
            "y": b64url_encode(numbers.y.to_bytes(32, "big")),
            "kid": self.kid,
            "alg": ES256,
            "use": "sig",
        }


KEY_TYPES: dict[str, type[HmacKey] | type[Ed25519Key] | type[P256Key]] = {
    HS256: HmacKey,
    EDDSA: Ed25519Key,
    ES256: P256Key,
}


@dataclass(frozen=True)
class Signer:
    """A key that signs from ``activates_at`` (a UNIX time) on, unless a newer one does."""

    seq: int
    activates_at: float
    key: SigningKey


@dataclass(frozen=True)
class KeySet:
    """The keys one instance accepts at a moment (a snapshot, replaced whole on refresh).

    ``alg`` is the configured algorithm: every key here has it. ``default`` is the key a
    token without ``kid`` is read as (``MARIA_SECRET_KEY``'s, while it is accepted: tokens
    issued before key ids existed). ``loaded``: the database's keys are known (before that,
    an unknown ``kid`` may be a key this instance has not read yet).
    """

    alg: str
    signers: tuple[Signer, ...] = ()  # newest first
    default: SigningKey | None = None
    loaded: bool = True
    by_kid: dict[str, SigningKey] = field(init=False, repr=False)
    by_header: dict[str, SigningKey] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        keys = [s.key for s in self.signers]
        if self.default is not None and self.default not in keys:
            keys.append(self.default)
        object.__setattr__(self, "by_kid", {k.kid: k for k in keys})
        object.__setattr__(self, "by_header", {k.header_segment: k for k in keys})

    @classmethod
    def of(cls, key: SigningKey, *, loaded: bool = True) -> KeySet:
        """One key, signing and read for tokens without ``kid`` too."""
        return cls(key.alg, (Signer(0, 0.0, key),), default=key, loaded=loaded)

    def signing(self, now: float) -> SigningKey | None:
        """The key to sign with now: the newest whose activation time has come."""
        for signer in self.signers:
            if signer.activates_at <= now:
                return signer.key
        return None

    def public_jwks(self) -> list[dict[str, str]]:
        return [jwk for s in self.signers if (jwk := s.key.public_jwk()) is not None]

    @property
    def keys(self) -> Iterable[SigningKey]:
        return self.by_kid.values()
