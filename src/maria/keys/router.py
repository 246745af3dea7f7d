"""The public signing keys, for services that verify Maria's tokens themselves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from maria.http.deps import service
from maria.http.openapi import doc
from maria.keys.service import KeyRing

router = APIRouter(tags=["keys"])
Keys = Annotated[KeyRing, service("keys")]

JWK_SET = "application/jwk-set+json"
_JWK = {
    "type": "object",
    "required": ["kty", "kid", "alg", "use"],
    "properties": {
        "kty": {"type": "string", "enum": ["OKP", "EC"]},
        "crv": {"type": "string", "enum": ["Ed25519", "P-256"]},
        "x": {"type": "string"},
        "y": {"type": "string"},
        "kid": {"type": "string"},
        "alg": {"type": "string", "enum": ["EdDSA", "ES256"]},
        "use": {"type": "string", "enum": ["sig"]},
    },
}
_JWK_SET_EXAMPLE = {
    "keys": [
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            "kid": "k7Q2mZ4xN8vR1tYb",
            "alg": "EdDSA",
            "use": "sig",
        }
    ]
}
_JWK_SET_SCHEMA = {
    "type": "object",
    "required": ["keys"],
    "properties": {"keys": {"type": "array", "items": _JWK}},
}


@router.get(
    "/.well-known/jwks.json",
    response_class=Response,
    **doc(
        "getJwks",
        "Get the public signing keys (JWK Set)",
        outage=False,
        responses={
            200: {
                "description": "The public keys tokens may be signed with (none with HS256)",
                "content": {JWK_SET: {"schema": _JWK_SET_SCHEMA, "example": _JWK_SET_EXAMPLE}},
            },
            304: {"description": "Not modified since the ETag given in If-None-Match"},
        },
    ),
)
async def jwks(keys: Keys, if_none_match: Annotated[str | None, Header()] = None) -> Response:
    """The JWK Set (RFC 7517) of the keys Maria signs and accepts tokens with: the active
    key, the next one, and older ones until they are retired."""
    published = keys.published
    # MARIA_JWKS_MAX_AGE (5 min): a rotated key is published that long before it signs; a
    # key retired at once (``--now``) leaves the caches within it.
    headers = {"Cache-Control": f"public, max-age={keys.jwks_max_age}", "ETag": published.etag}
    if if_none_match is not None and published.etag in (
        t.strip() for t in if_none_match.split(",")
    ):
        return Response(status_code=304, headers=headers)
    return Response(published.body, media_type=JWK_SET, headers=headers)
