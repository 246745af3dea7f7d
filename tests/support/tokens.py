"""Forging tokens for the token tests: exact segments, any key, any size."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import warnings
from typing import Any

import jwt

from tests.support.api import TEST_SECRET

SECRET = TEST_SECRET.encode()
ISSUER = "maria"
AUDIENCE = "kinoway"
NOW = 1_700_000_000


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(obj: Any) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def hs256(signing_input: str, secret: bytes = SECRET) -> str:
    return b64(hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest())


def forge_raw(header_seg: str, payload_seg: str, secret: bytes = SECRET) -> str:
    """Sign the exact segment text given (which may be deliberately malformed)."""
    signing_input = f"{header_seg}.{payload_seg}"
    return f"{signing_input}.{hs256(signing_input, secret)}"


def forge(
    claims: Any, header: Any = None, secret: bytes = SECRET, payload_text: str | None = None
) -> str:
    header_seg = segment({"alg": "HS256", "typ": "JWT"} if header is None else header)
    payload_seg = segment(claims) if payload_text is None else b64(payload_text.encode())
    return forge_raw(header_seg, payload_seg, secret)


def pyjwt_encode(claims: dict[str, Any], algorithm: str, secret: bytes = SECRET) -> str:
    with warnings.catch_warnings():  # PyJWT warns that the key is short for HS512
        warnings.simplefilter("ignore")
        return jwt.encode(claims, secret, algorithm=algorithm)


def with_b64_alphabet_chars(claims: dict[str, Any]) -> dict[str, Any]:
    """Claims whose base64url encoding contains '-' or '_' (to swap for '+' or '/')."""
    for pad in range(1, 8):
        padded = {**claims, "pad": "~" * pad + "?" * pad}
        seg = segment(padded)
        if "-" in seg and "_" in seg:
            return padded
    raise AssertionError("no padding gave both '-' and '_'")


def base_claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "0b6f1c1e-user",
        "sid": "5d3a-session",
        "role": "user",
        "jti": "jti-abc",
        "iat": NOW,
        "exp": NOW + 900,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    claims.update(changes)
    return claims


def without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k != name}


def sized_token(total: int, claims: dict[str, Any] | None = None) -> str:
    """A correctly signed, otherwise valid token of exactly ``total`` characters."""
    claims = base_claims() if claims is None else claims
    base = len(forge({**claims, "pad": ""}))
    start = max(0, (total - base) * 3 // 4 - 8)
    for pad in range(start, start + 32):
        token = forge({**claims, "pad": "x" * pad})
        if len(token) == total:
            return token
        if len(token) > total:
            break
    raise AssertionError(f"no padding gives a token of {total} characters")
