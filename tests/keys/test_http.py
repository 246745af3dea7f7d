"""``GET /.well-known/jwks.json`` and the app's tokens with each algorithm, in-process."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from maria.keys.jws import base_kid
from tests.support.api import ME, TEST_SECRET, assert_error, bearer, register
from tests.support.app import app_and_client, make_settings

JWKS = "/.well-known/jwks.json"


async def test_hs256_publishes_an_empty_set(database_url: str, tmp_path: Path) -> None:
    async with app_and_client(make_settings(database_url, tmp_path)) as (_, client):
        response = await client.get(JWKS)
        assert response.status_code == 200
        assert response.json() == {"keys": []}
        assert response.headers["content-type"] == "application/jwk-set+json"
        assert response.headers["cache-control"] == "public, max-age=300"
        session = await register(client)
        header = jwt.get_unverified_header(session["access_token"])
        assert header == {"alg": "HS256", "typ": "JWT", "kid": base_kid(TEST_SECRET.encode())}


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
async def test_asymmetric_tokens_verify_from_the_published_set(
    database_url: str, tmp_path: Path, alg: str
) -> None:
    settings = make_settings(database_url, tmp_path, jwt_alg=alg)
    async with app_and_client(settings) as (_, client):
        session = await register(client)
        token = session["access_token"]
        assert (await client.get(ME, headers=bearer(session))).status_code == 200
        response = await client.get(JWKS)
        keys = jwt.PyJWKSet.from_dict(response.json())
        header = jwt.get_unverified_header(token)
        assert header["alg"] == alg
        claims = jwt.decode(
            token, keys[header["kid"]].key, algorithms=[alg], audience="kinoway", issuer="maria"
        )
        assert claims["sub"] == session["user"]["id"]
        # With the secret as an HMAC key, nothing verifies and Maria refuses to sign any.
        forged = jwt.encode(claims, TEST_SECRET, algorithm="HS256", headers={"kid": header["kid"]})
        assert_error(
            await client.get(ME, headers={"Authorization": f"Bearer {forged}"}),
            401,
            "invalid_token",
        )


async def test_etag_revalidation(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, jwt_alg="EdDSA")
    async with app_and_client(settings) as (_, client):
        first = await client.get(JWKS)
        etag = first.headers["etag"]
        again = await client.get(JWKS, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag and "max-age" in again.headers["cache-control"]
        both = await client.get(JWKS, headers={"If-None-Match": f'"other", {etag}'})
        assert both.status_code == 304
        for stale in ('"other"', "garbage", "*" * 5000, "\x7f"):
            response = await client.get(JWKS, headers={"If-None-Match": stale})
            assert response.status_code == 200 and response.json() == first.json()


async def test_jwks_refuses_other_methods(database_url: str, tmp_path: Path) -> None:
    async with app_and_client(make_settings(database_url, tmp_path)) as (_, client):
        response = await client.post(JWKS, json={"keys": []})
        assert_error(response, 405, "method_not_allowed")
