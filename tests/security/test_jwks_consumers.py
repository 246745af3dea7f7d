"""Acceptance: another process verifies Maria's tokens holding only the JWK Set's URL:
PyJWT's ``PyJWKClient`` here, and ``jose`` in a Node.js process. Both also refuse a token
whose payload was changed, so their acceptance means something."""

from __future__ import annotations

import jwt
import pytest

from tests.security.conftest import Target
from tests.support.node import jose_verify

ASYMMETRIC = ("EdDSA", "ES256")


def tampered(token: str) -> str:
    """The same token with its payload re-encoded to claim the admin role."""
    import base64
    import json

    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize("alg", ASYMMETRIC)
def test_pyjwkclient_verifies_from_the_jwks_alone(targets: dict[str, Target], alg: str) -> None:
    target = targets[alg]
    token = target.register()["access_token"]
    client = jwt.PyJWKClient(f"{target.url}/.well-known/jwks.json", cache_keys=True)
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=[alg], audience="kinoway", issuer="maria")
    assert claims["role"] == "user"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered(token), key.key, algorithms=[alg], audience="kinoway")


def test_pyjwkclient_finds_no_key_with_hs256(targets: dict[str, Target]) -> None:
    """HS256 publishes nothing: a shared secret is not for other services to fetch."""
    target = targets["HS256"]
    token = target.register()["access_token"]
    client = jwt.PyJWKClient(f"{target.url}/.well-known/jwks.json")
    with pytest.raises((jwt.PyJWKClientError, jwt.PyJWKSetError)):
        client.get_signing_key_from_jwt(token)


@pytest.mark.parametrize("alg", ASYMMETRIC)
def test_node_jose_verifies_from_the_jwks_alone(targets: dict[str, Target], alg: str) -> None:
    target = targets[alg]
    session = target.register()
    token = session["access_token"]
    url = f"{target.url}/.well-known/jwks.json"
    good, forged = jose_verify(url, alg, [token, tampered(token)])
    kid = jwt.get_unverified_header(token)["kid"]
    assert good == {"ok": True, "kid": kid, "sub": session["user"]["id"]}
    assert forged == {"ok": False, "code": "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"}
    # jose, too, takes only the algorithm it is told to.
    [other] = jose_verify(url, next(a for a in ASYMMETRIC if a != alg), [token])
    assert other["ok"] is False
