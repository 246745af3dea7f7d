"""HS256 access tokens: the seed's design, strict and fast.

Signing: ``base64url(header) + "." + base64url(payload)``, HMAC-SHA256 with the server's
secret, appended base64url-encoded. Verification recomputes the signature over the exact
text received and compares the encodings in constant time before looking at anything else,
so a tampered header or payload, a non-canonical signature encoding, ``alg: none`` or a
forged token costs one HMAC and is refused. Claims are then checked by Maria's rules.

Written here rather than taken from a JWT library because this check runs on every
authenticated request: it does one HMAC, one base64 decode and one ``json.loads`` (about
a quarter of PyJWT's time), and it refuses everything Maria never issues. Tokens verify with
any JWT library given the same secret (tested against PyJWT).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import time
from dataclasses import dataclass
from typing import Any, TypeGuard

from maria.errors import InvalidToken, TokenExpired

MAX_TOKEN_BYTES = 8 * 1024
ROLES = frozenset({"user", "admin"})
_URL_TO_STD = bytes.maketrans(b"-_", b"+/")
_PADDING = {0: b"", 2: b"==", 3: b"="}
_REQUIRED_STR_CLAIMS = ("sub", "jti", "sid", "role", "iss")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    """Strict unpadded base64url: refuse padding, the standard alphabet and stray characters.

    Only ever applied to segments whose exact text the signature already covers, so the
    unused low bits of the last character carry no meaning an attacker could exploit.
    """
    if len(segment) % 4 == 1 or "=" in segment or "+" in segment or "/" in segment:
        raise InvalidToken("Malformed token encoding")
    try:
        raw = segment.encode("ascii").translate(_URL_TO_STD) + _PADDING[len(segment) % 4]
        return binascii.a2b_base64(raw, strict_mode=True)
    except (binascii.Error, ValueError):
        raise InvalidToken("Malformed token encoding") from None


def _json_segment(obj: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(obj, separators=(",", ":"), sort_keys=False).encode())


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
    """Signs and verifies Maria's HS256 access tokens with one secret."""

    ALG = "HS256"

    def __init__(
        self,
        secret: bytes,
        *,
        issuer: str,
        audience: str,
        leeway: int = 30,
        kid: str | None = None,
    ) -> None:
        if not secret:
            raise ValueError("empty signing secret")
        self._mac = hmac.new(secret, digestmod=hashlib.sha256)
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        header: dict[str, str] = {"alg": self.ALG, "typ": "JWT"}
        if kid is not None:
            header["kid"] = kid
        self._header_segment = _json_segment(header)

    def sign(self, signing_input: str) -> str:
        mac = self._mac.copy()
        mac.update(signing_input.encode("ascii"))
        return b64url_encode(mac.digest())

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
        """Return ``(token, exp)``; the same arguments always give the same token."""
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
        signing_input = f"{self._header_segment}.{_json_segment(payload)}"
        return f"{signing_input}.{self.sign(signing_input)}", exp

    def verify_signature(self, token: str) -> tuple[str, str]:
        """Check shape and signature; return the header and payload segments."""
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("Token too large")
        if not token.isascii():
            # Also keeps compare_digest below from raising TypeError on non-ASCII text (a
            # header byte such as 0xFF arrives as a latin-1 character).
            raise InvalidToken("Malformed token")
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("Malformed token")
        header_seg, payload_seg, signature_seg = parts
        expected = self.sign(f"{header_seg}.{payload_seg}")
        if not hmac.compare_digest(expected, signature_seg):
            raise InvalidToken("Bad token signature")
        return header_seg, payload_seg

    def _check_header(self, header_seg: str) -> None:
        if header_seg == self._header_segment:
            return  # the exact header Maria issues: nothing more to parse
        header = _load_object(header_seg)
        if header.get("alg") != self.ALG:
            raise InvalidToken("Unsupported token algorithm")
        if header.get("typ", "JWT") != "JWT" or "crit" in header:
            raise InvalidToken("Unsupported token header")

    def decode(self, token: str, *, now: float | None = None) -> AccessClaims:
        """Verify signature, header and Maria's claim rules; raise InvalidToken/TokenExpired."""
        header_seg, payload_seg = self.verify_signature(token)
        self._check_header(header_seg)
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


def _load_object(segment: str) -> dict[str, Any]:
    try:
        obj = json.loads(b64url_decode(segment).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidToken("Malformed token JSON") from None
    if not isinstance(obj, dict):
        raise InvalidToken("Malformed token JSON")
    return obj
