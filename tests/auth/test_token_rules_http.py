"""The access-token refusal rules, seen over HTTP on ``GET /api/v1/users/me``.

Each bad token is the signed-in user's real claims (read with PyJWT) with one thing changed,
signed with the test app's secret; the ``claims`` fixture first shows that the unchanged
re-signed token is accepted, so each 401 is due to the rule under test. Runs on SQLite and
on Postgres.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from maria.keys.jws import base_kid
from tests.support.api import PASSWORD, TEST_SECRET, assert_error, bearer, register
from tests.support.tokens import (
    b64,
    forge,
    forge_raw,
    pyjwt_encode,
    segment,
    sized_token,
    with_b64_alphabet_chars,
    without,
)

ME = "/api/v1/users/me"
ISSUER = "maria"
AUDIENCE = "kinoway"


def read_claims(access_token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        access_token, TEST_SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER
    )
    return claims


def auth(token: str | bytes) -> dict[str, Any]:
    if isinstance(token, bytes):
        return {"Authorization": b"Bearer " + token}
    return {"Authorization": f"Bearer {token}"}


async def sign_in(client: httpx.AsyncClient) -> dict[str, Any]:
    session = await register(client)
    client.cookies.clear()  # only the bearer header authenticates in these tests
    return session


@pytest.fixture
async def claims(client: httpx.AsyncClient) -> dict[str, Any]:
    """The real claims of a fresh session, and proof that re-signing them is accepted."""
    session = await sign_in(client)
    real = read_claims(session["access_token"])
    response = await client.get(ME, headers=auth(forge(real)))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == real["sub"] == session["user"]["id"]
    return real


def now() -> int:
    return int(time.time())


def changed(claims: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**claims, **changes}


def header_swapped(claims: dict[str, Any]) -> str:
    token = forge(claims)
    _, payload, signature = token.split(".")
    return f"{segment({'alg': 'HS256', 'typ': 'JWT', 'kid': 'x'})}.{payload}.{signature}"


def payload_swapped(claims: dict[str, Any], **changes: Any) -> str:
    header, _, signature = forge(claims).split(".")
    return f"{header}.{segment(changed(claims, **changes))}.{signature}"


def padded_payload(claims: dict[str, Any]) -> str:
    header, payload = segment({"alg": "HS256", "typ": "JWT"}), segment(claims)
    return forge_raw(header, payload + "=" * (-len(payload) % 4 or 4))


def std_alphabet_payload(claims: dict[str, Any]) -> str:
    payload = segment(with_b64_alphabet_chars(claims))
    std = payload.replace("-", "+").replace("_", "/")
    assert std != payload
    return forge_raw(segment({"alg": "HS256", "typ": "JWT"}), std)


def spaced_payload(claims: dict[str, Any]) -> str:
    payload = segment(claims)
    return forge_raw(segment({"alg": "HS256", "typ": "JWT"}), payload[:10] + " " + payload[10:])


def raw_numeric(claims: dict[str, Any], name: str, raw: str) -> str:
    """``name`` set to raw JSON text such as NaN, which json.dumps would not write as given."""
    body = json.dumps(changed(claims, **{name: "__N__"}), separators=(",", ":"))
    return forge(None, payload_text=body.replace('"__N__"', raw))


TokenFactory = Callable[[dict[str, Any]], "str | bytes"]

INVALID: dict[str, TokenFactory] = {
    # algorithm
    "alg-none-unsigned": lambda c: f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(c)}.",
    "alg-none-no-dot": lambda c: f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(c)}",
    "alg-none-hmac-signed": lambda c: forge(c, header={"alg": "none", "typ": "JWT"}),
    "alg-HS384-pyjwt": lambda c: pyjwt_encode(c, "HS384", TEST_SECRET.encode()),
    "alg-HS512-pyjwt": lambda c: pyjwt_encode(c, "HS512", TEST_SECRET.encode()),
    "alg-RS256-header-hmac-signed": lambda c: forge(c, header={"alg": "RS256", "typ": "JWT"}),
    "alg-RS256-looking": lambda c: (
        f"{segment({'alg': 'RS256', 'typ': 'JWT'})}.{segment(c)}.{b64(bytes(range(256)))}"
    ),
    # shape and encoding
    "two-segments": lambda c: forge(c).rsplit(".", 1)[0],
    "four-segments": lambda c: forge(c) + "." + forge(c).split(".")[2],
    "one-segment": lambda c: segment(c),
    "padding": padded_payload,
    "std-alphabet": std_alphabet_payload,
    "space-inside": spaced_payload,
    "non-ascii-byte-in-signature": lambda c: forge(c).encode()[:-1] + b"\xff",
    "non-ascii-byte-in-payload": lambda c: forge(c).encode().replace(b".", b"\xe9.", 1),
    "utf8-snowman-in-signature": lambda c: forge(c).encode() + "\u2603".encode(),
    # integrity
    "tampered-header": header_swapped,
    "tampered-payload-role": lambda c: payload_swapped(c, role="admin"),
    "tampered-payload-exp": lambda c: payload_swapped(c, exp=c["exp"] + 86400),
    "other-secret": lambda c: forge(c, secret=TEST_SECRET.encode() + b"!"),
    # time
    "iat-in-the-future": lambda c: forge(changed(c, iat=now() + 120)),
    "nbf-in-the-future": lambda c: forge(changed(c, nbf=now() + 120)),
    # issuer, audience
    "wrong-iss": lambda c: forge(changed(c, iss="not-maria")),
    "missing-iss": lambda c: forge(without(c, "iss")),
    "wrong-aud": lambda c: forge(changed(c, aud="other-app")),
    "aud-list-without-ours": lambda c: forge(changed(c, aud=["a", "b"])),
    "missing-aud": lambda c: forge(without(c, "aud")),
    # claims
    "missing-exp": lambda c: forge(without(c, "exp")),
    "missing-iat": lambda c: forge(without(c, "iat")),
    "missing-sub": lambda c: forge(without(c, "sub")),
    "missing-sid": lambda c: forge(without(c, "sid")),
    "missing-jti": lambda c: forge(without(c, "jti")),
    "missing-role": lambda c: forge(without(c, "role")),
    "exp-string": lambda c: forge(changed(c, exp=str(c["exp"]))),
    "exp-bool": lambda c: forge(changed(c, exp=True)),
    "exp-NaN": lambda c: raw_numeric(c, "exp", "NaN"),
    "exp-Infinity": lambda c: raw_numeric(c, "exp", "Infinity"),
    "exp-1e999": lambda c: raw_numeric(c, "exp", "1e999"),
    "unknown-role": lambda c: forge(changed(c, role="superuser")),
    "payload-array": lambda c: forge(None, payload_text=json.dumps([c])),
    "over-8-kib": lambda c: sized_token(8 * 1024 + 1, c),
}


@pytest.mark.parametrize("make_token", list(INVALID.values()), ids=list(INVALID))
async def test_bad_token_is_401_invalid_token(
    client: httpx.AsyncClient, claims: dict[str, Any], make_token: TokenFactory
) -> None:
    response = await client.get(ME, headers=auth(make_token(claims)))
    assert_error(response, 401, "invalid_token")


async def test_expired_token_is_401_token_expired(
    client: httpx.AsyncClient, claims: dict[str, Any]
) -> None:
    token = forge(changed(claims, iat=now() - 1000, exp=now() - 60))
    assert_error(await client.get(ME, headers=auth(token)), 401, "token_expired")


async def test_not_yet_valid_within_leeway_is_accepted(
    client: httpx.AsyncClient, claims: dict[str, Any]
) -> None:
    for name in ("iat", "nbf"):
        token = forge(changed(claims, **{name: now() + 20}))
        response = await client.get(ME, headers=auth(token))
        assert response.status_code == 200, (name, response.text)


async def test_token_of_exactly_8_kib_is_accepted(
    client: httpx.AsyncClient, claims: dict[str, Any]
) -> None:
    token = sized_token(8 * 1024, claims)
    response = await client.get(ME, headers=auth(token))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == claims["sub"]


async def test_maria_tokens_verify_with_pyjwt(client: httpx.AsyncClient) -> None:
    session = await sign_in(client)
    token = session["access_token"]
    # The key id of MARIA_SECRET_KEY, whose raw bytes still verify the token.
    kid = base_kid(TEST_SECRET.encode())
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": kid}
    claims = read_claims(token)
    assert set(claims) == {
        "sub",
        "exp",
        "iat",
        "jti",
        "sid",
        "role",
        "iss",
        "aud",
        "email_verified",
    }
    assert claims["sub"] == session["user"]["id"]
    assert claims["role"] == "user"
    assert (claims["iss"], claims["aud"]) == (ISSUER, AUDIENCE)
    assert claims["exp"] == session["expires_at"]
    assert claims["exp"] - claims["iat"] == 900
    sessions = await client.get("/api/v1/auth/sessions", headers=bearer(session))
    assert [s["id"] for s in sessions.json() if s["current"]] == [claims["sid"]]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, TEST_SECRET + "x", algorithms=["HS256"], audience=AUDIENCE)


async def test_pyjwt_made_token_is_accepted(
    client: httpx.AsyncClient, claims: dict[str, Any]
) -> None:
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    response = await client.get(ME, headers=auth(token))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == claims["sub"]


async def test_logged_out_session_token_is_refused_at_once(client: httpx.AsyncClient) -> None:
    session = await sign_in(client)
    other = await sign_in(client)
    assert (await client.get(ME, headers=bearer(session))).status_code == 200
    response = await client.post("/api/v1/auth/logout", headers=bearer(session))
    assert response.status_code == 204, response.text
    assert_error(await client.get(ME, headers=bearer(session)), 401, "invalid_token")
    # A token of the same session forged with a fresh jti and iat is refused too:
    # revocation is by session, not by token.
    again = forge(changed(read_claims(session["access_token"]), jti="fresh", iat=now()))
    assert_error(await client.get(ME, headers=auth(again)), 401, "invalid_token")
    # Other users' sessions are untouched.
    assert (await client.get(ME, headers=bearer(other))).status_code == 200


async def test_deleted_session_token_is_refused_at_once(client: httpx.AsyncClient) -> None:
    email = "two-devices@example.com"
    laptop = await register(client, email=email)
    client.cookies.clear()
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    client.cookies.clear()
    phone = login.json()
    phone_sid = read_claims(phone["access_token"])["sid"]
    assert (await client.get(ME, headers=bearer(phone))).status_code == 200
    response = await client.delete(f"/api/v1/auth/sessions/{phone_sid}", headers=bearer(laptop))
    assert response.status_code == 204, response.text
    assert_error(await client.get(ME, headers=bearer(phone)), 401, "invalid_token")
    assert (await client.get(ME, headers=bearer(laptop))).status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Token {token}", "Bearer", "Bearer ", "JWT {token}", "{token}", ""],
)
async def test_authorization_that_is_not_a_bearer_token_is_401(
    client: httpx.AsyncClient, header: str
) -> None:
    session = await sign_in(client)
    value = header.format(token=session["access_token"])
    response = await client.get(ME, headers={"Authorization": value})
    assert response.status_code == 401, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] in {"invalid_token", "not_authenticated"}
    assert body["error"]["message"]


async def test_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient) -> None:
    session = await sign_in(client)
    for scheme in ("bearer", "BEARER"):
        response = await client.get(
            ME, headers={"Authorization": f"{scheme} {session['access_token']}"}
        )
        assert response.status_code == 200, (scheme, response.text)


async def test_bad_bearer_is_not_rescued_by_a_valid_cookie(client: httpx.AsyncClient) -> None:
    """A request whose bearer header is bad is refused even if it also carries a good cookie."""
    await register(client)  # leaves a valid maria_access cookie in the client
    assert (await client.get(ME)).status_code == 200  # the cookie alone works
    response = await client.get(ME, headers=auth("not.a.token"))
    assert_error(response, 401, "invalid_token")


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/api/v1/auth/sessions"), ("POST", "/api/v1/auth/logout"), ("PATCH", ME)],
)
async def test_rules_hold_on_every_authenticated_route(
    client: httpx.AsyncClient, claims: dict[str, Any], method: str, path: str
) -> None:
    """Not only /me: routes under /auth/ check the token in their dependency instead."""
    expired = forge(changed(claims, iat=now() - 1000, exp=now() - 60))
    unsigned = f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims)}."
    escalated = payload_swapped(claims, role="admin")
    body = {"display_name": "Changed"} if path == ME else None
    response = await client.request(method, path, headers=auth(expired), json=body)
    assert_error(response, 401, "token_expired")
    for token in (unsigned, escalated):
        response = await client.request(method, path, headers=auth(token), json=body)
        assert_error(response, 401, "invalid_token")
    # Nothing happened: still signed in, name unchanged.
    me = await client.get(ME, headers=auth(forge(claims)))
    assert me.status_code == 200 and me.json()["display_name"] == "Tester"
