"""Access tokens: compact JWS with a ``kid``, strict and fast.

Signing: ``base64url(header) + "." + base64url(payload)``, signed with the key set's active
key (HS256 with ``MARIA_SECRET_KEY`` as is until a rotation; EdDSA or ES256 when configured),
whose ``kid`` the header names. Verification finds the key first: a header Maria issued is
known by its exact text (one dictionary lookup, nothing parsed); any other header is parsed
strictly (no duplicate names, only ``alg``, ``typ`` and ``kid``, ``alg`` exactly the
configured algorithm, a known ``kid``). Then it checks the signature over the exact text
received, then the payload (strict JSON, no duplicate names) and Maria's claim rules. No key
set member is ever used with another algorithm than its own, so a public key can never be
mistaken for an HMAC secret.

Written here rather than taken from a JWT library because this check runs on every
authenticated request: one HMAC, one base64 decode and one ``json`` decode for HS256 (about a
quarter of PyJWT's time), and it refuses everything Maria never issues. Tokens verify with
any JWT library given the same secret or the published public keys (tested against PyJWT
and jose).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

from maria.errors import InvalidToken, TokenExpired, Unavailable
from maria.keys.jws import KID, HmacKey, KeySet, SigningKey, b64url_decode, b64url_encode
from maria.keys.jws import base_kid as _base_kid
from maria.keys.jws import json_segment as _json_segment

__all__ = ["MAX_TOKEN_BYTES", "AccessClaims", "TokenCodec", "b64url_decode", "b64url_encode"]

MAX_TOKEN_BYTES = 8 * 1024
ROLES = frozenset({"user", "admin"})
_REQUIRED_STR_CLAIMS = ("sub", "jti", "sid", "role", "iss")
_HEADER_NAMES = frozenset({"alg", "typ", "kid"})


class KeySource(Protocol):
    """Where the codec reads the key set, on every call (a ``KeyRing`` replaces it whole)."""

    @property
    def current(self) -> KeySet: ...


@dataclass(frozen=True)
class StaticKeys:
    current: KeySet


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """The verified claims Maria reads from an access token."""

    sub: str
    sid: str
    role: str
    jti: str
    iat: int
    exp: int


class TokenCodec:
    """Signs and verifies Maria's access tokens with a key set (or one HS256 secret)."""

    def __init__(
        self,
        keys: bytes | KeySource,
        *,
        issuer: str,
        audience: str,
        leeway: int = 30,
    ) -> None:
        if isinstance(keys, bytes):
            keys = StaticKeys(KeySet.of(HmacKey(_base_kid(keys), keys)))
        self._keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway

    def _signing_key(self) -> SigningKey:
        key = self._keys.current.signing(time.time())
        if key is None:
            raise Unavailable("No signing key loaded yet")
        return key

    def sign(self, signing_input: str) -> str:
        """The active key's signature of ``signing_input``."""
        return self._signing_key().sign(signing_input)

    def issue(
        self,
        *,
        sub: str,
        sid: str,
        role: str,
        jti: str,
        iat: int,
        ttl: int,
        email_verified: bool | None = None,
    ) -> tuple[str, int]:
        """Return ``(token, exp)``; the same arguments and key always give the same token
        (EdDSA and HS256; an ES256 signature is new each time, its claims are not)."""
        key = self._signing_key()
        exp = iat + ttl
        payload: dict[str, Any] = {
            "sub": sub,
            "sid": sid,
            "role": role,
            "jti": jti,
            "iat": iat,
            "exp": exp,
            "iss": self.issuer,
            "aud": self.audience,
        }
        if email_verified is not None:
            payload["email_verified"] = email_verified
        signing_input = f"{key.header_segment}.{_json_segment(payload)}"
        return f"{signing_input}.{key.sign(signing_input)}", exp

    def verify_signature(self, token: str) -> tuple[str, str]:
        """Check shape, header and signature; return the header and payload segments."""
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("Token too large")
        if not token.isascii():
            # Also keeps the key lookups and compare_digest from ever seeing non-ASCII text
            # (a header byte such as 0xFF arrives as a latin-1 character).
            raise InvalidToken("Malformed token")
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("Malformed token")
        header_seg, payload_seg, signature_seg = parts
        keys = self._keys.current
        key = keys.by_header.get(header_seg) or _key_of(keys, header_seg)
        if not key.verify(f"{header_seg}.{payload_seg}", signature_seg):
            raise InvalidToken("Bad token signature")
        return header_seg, payload_seg

    def decode(self, token: str, *, now: float | None = None) -> AccessClaims:
        """Verify signature, header and Maria's claim rules; raise InvalidToken/TokenExpired."""
        _, payload_seg = self.verify_signature(token)
        claims = _load_object(payload_seg)
        now = time.time() if now is None else now
        for name in _REQUIRED_STR_CLAIMS:
            if not isinstance(claims.get(name), str) or not claims[name]:
                raise InvalidToken(f"Token claim '{name}' missing or invalid")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not _is_number(exp) or not _is_number(iat):
            raise InvalidToken("Token claims 'exp' and 'iat' must be numbers")
        if claims["iss"] != self.issuer:
            raise InvalidToken("Wrong token issuer")
        aud = claims.get("aud")
        if not (aud == self.audience or (isinstance(aud, list) and self.audience in aud)):
            raise InvalidToken("Wrong token audience")
        if claims["role"] not in ROLES:
            raise InvalidToken("Unknown role")
        nbf = claims.get("nbf", iat)
        if not _is_number(nbf):
            raise InvalidToken("Token claim 'nbf' must be a number")
        if iat > now + self.leeway or nbf > now + self.leeway:
            raise InvalidToken("Token not valid yet")
        if exp <= now:
            raise TokenExpired()
        return AccessClaims(
            sub=claims["sub"],
            sid=claims["sid"],
            role=claims["role"],
            jti=claims["jti"],
            iat=int(iat),
            exp=int(exp),
        )


def _is_number(value: object) -> TypeGuard[int | float]:
    """A finite JSON number (booleans, NaN and infinities are not NumericDates)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _key_of(keys: KeySet, header_seg: str) -> SigningKey:
    """The key a header Maria did not write itself names, by the strict rules."""
    header = _load_object(header_seg)
    if header.keys() - _HEADER_NAMES:
        # crit, jku, x5u, jwk, x5c, b64, zip...: nothing Maria issues, nothing it follows.
        raise InvalidToken("Unsupported token header")
    alg = header.get("alg")
    if alg != keys.alg:
        raise InvalidToken("Unsupported token algorithm")
    if header.get("typ", "JWT") != "JWT":
        raise InvalidToken("Unsupported token header")
    if "kid" not in header:
        if keys.default is None:
            raise InvalidToken("Token has no key id")
        return keys.default
    kid = header["kid"]
    if not isinstance(kid, str) or KID.fullmatch(kid) is None:
        raise InvalidToken("Malformed token key id")
    key = keys.by_kid.get(kid)
    if key is None:
        if not keys.loaded:  # a key this instance has not read yet, perhaps
            raise Unavailable("Signing keys not loaded yet")
        raise InvalidToken("Unknown token signing key")
    if key.alg != alg:  # never: every key of the set has its algorithm; kept explicit
        raise InvalidToken("Unsupported token algorithm")
    return key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose names are unique (``"role":"user","role":"admin"`` is refused, not
    read as its last duplicate)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate name")
    return obj


_STRICT = json.JSONDecoder(object_pairs_hook=_unique)


def _load_object(segment: str) -> dict[str, Any]:
    text = b64url_decode(segment)
    try:
        obj = _STRICT.decode(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        obj = None  # refused below, outside the ``except`` (no __context__ to keep alive)
    if not isinstance(obj, dict):
        raise InvalidToken("Malformed token JSON")
    return obj
