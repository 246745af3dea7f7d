"""Unit tests of the strict HS256 codec (``maria.auth.tokens``).

Tokens are forged here with ``hmac`` directly (or PyJWT), never with the codec under test, so a
bug in the codec's signing cannot hide the same bug in its verification. Every refusal test
changes one thing in an otherwise valid token; ``test_forged_baseline_is_accepted`` shows the
unchanged token passes, so each refusal is due to the rule it names.
"""

from __future__ import annotations

import base64
import hashlib
import json
import string
import warnings
from typing import Any

import jwt
import pytest

from maria.auth.tokens import (
    MAX_TOKEN_BYTES,
    AccessClaims,
    TokenCodec,
    b64url_decode,
    b64url_encode,
)
from maria.errors import InvalidToken, TokenExpired
from maria.keys.jws import base_kid
from tests.support.api import TEST_SECRET
from tests.support.tokens import (
    AUDIENCE,
    ISSUER,
    NOW,
    SECRET,
    b64,
    base_claims,
    forge,
    forge_raw,
    hs256,
    pyjwt_encode,
    segment,
    sized_token,
    with_b64_alphabet_chars,
    without,
)

B64URL_ALPHABET = string.ascii_letters + string.digits + "-_"

# -- RFC 7515 appendix A.1 --------------------------------------------------------------

RFC_KEY = base64.urlsafe_b64decode(
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow=="
)
RFC_HEADER = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
RFC_PAYLOAD = (
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
)
RFC_SIGNATURE = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_TOKEN = f"{RFC_HEADER}.{RFC_PAYLOAD}.{RFC_SIGNATURE}"


def rfc_codec() -> TokenCodec:
    return TokenCodec(RFC_KEY, issuer=ISSUER, audience=AUDIENCE)


def test_rfc7515_a1_fixture_is_the_rfc_text() -> None:
    """The constants are the RFC's octets (CRLFs included), and PyJWT agrees they verify."""
    assert len(RFC_KEY) == 64
    assert b64url_decode(RFC_HEADER) == b'{"typ":"JWT",\r\n "alg":"HS256"}'
    assert b64url_decode(RFC_PAYLOAD) == (
        b'{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}'
    )
    claims = jwt.decode(RFC_TOKEN, RFC_KEY, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["iss"] == "joe"


def test_rfc7515_a1_signature_is_accepted() -> None:
    assert rfc_codec().verify_signature(RFC_TOKEN) == (RFC_HEADER, RFC_PAYLOAD)


def test_rfc7515_a1_signature_is_computed_like_the_rfc() -> None:
    assert rfc_codec().sign(f"{RFC_HEADER}.{RFC_PAYLOAD}") == RFC_SIGNATURE


def test_rfc7515_a1_any_single_character_change_is_refused() -> None:
    codec = rfc_codec()
    checked = 0
    for index, char in enumerate(RFC_TOKEN):
        if char == ".":
            continue
        for other in B64URL_ALPHABET:
            if other == char:
                continue
            mutated = RFC_TOKEN[:index] + other + RFC_TOKEN[index + 1 :]
            with pytest.raises(InvalidToken):
                codec.verify_signature(mutated)
            checked += 1
    segments_len = len(RFC_HEADER) + len(RFC_PAYLOAD) + len(RFC_SIGNATURE)
    assert checked == segments_len * (len(B64URL_ALPHABET) - 1)


def test_rfc7515_a1_refused_with_another_key() -> None:
    other = TokenCodec(RFC_KEY[:-1] + bytes([RFC_KEY[-1] ^ 1]), issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(InvalidToken):
        other.verify_signature(RFC_TOKEN)


def test_rfc7515_a1_passes_the_signature_but_not_marias_claim_rules() -> None:
    # iss "joe", no sub/sid/jti/role/aud: a valid signature alone is not a Maria token.
    with pytest.raises(InvalidToken):
        rfc_codec().decode(RFC_TOKEN, now=1300819000)


@pytest.fixture
def codec() -> TokenCodec:
    return TokenCodec(SECRET, issuer=ISSUER, audience=AUDIENCE)


def refused(codec: TokenCodec, token: str, now: float = NOW) -> InvalidToken:
    with pytest.raises(InvalidToken) as info:
        codec.decode(token, now=now)
    assert info.value.status == 401 and info.value.code == "invalid_token"
    return info.value


# -- interoperability ------------------------------------------------------------------


def test_issued_token_verifies_with_pyjwt(codec: TokenCodec) -> None:
    token, exp = codec.issue(sub="u-1", sid="s-1", role="admin", jti="j-1", iat=NOW, ttl=900)
    assert exp == NOW + 900
    claims = jwt.decode(
        token,
        TEST_SECRET,
        algorithms=["HS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "sub": "u-1",
        "sid": "s-1",
        "role": "admin",
        "jti": "j-1",
        "iat": NOW,
        "exp": NOW + 900,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    header_seg = token.split(".")[0]
    header = {"alg": "HS256", "typ": "JWT", "kid": base_kid(SECRET)}
    assert json.loads(b64url_decode(header_seg)) == header
    assert jwt.get_unverified_header(token) == header
    # Signed with the UTF-8 bytes of the secret as is, as another service would use it.
    assert token.split(".")[2] == hs256(token.rsplit(".", 1)[0], TEST_SECRET.encode("utf-8"))


def test_issued_token_is_refused_by_pyjwt_with_another_secret(codec: TokenCodec) -> None:
    token, _ = codec.issue(sub="u-1", sid="s-1", role="user", jti="j-1", iat=NOW, ttl=900)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token,
            TEST_SECRET + "x",
            algorithms=["HS256"],
            audience=AUDIENCE,
            options={"verify_exp": False},
        )


def test_issued_token_round_trips_through_decode(codec: TokenCodec) -> None:
    token, _ = codec.issue(sub="u-1", sid="s-1", role="user", jti="j-1", iat=NOW, ttl=900)
    assert codec.decode(token, now=NOW + 10) == AccessClaims(
        sub="u-1", sid="s-1", role="user", jti="j-1", iat=NOW, exp=NOW + 900
    )


def test_pyjwt_token_is_accepted_by_decode(codec: TokenCodec) -> None:
    token = pyjwt_encode(base_claims(), "HS256")
    claims = codec.decode(token, now=NOW + 1)
    assert (claims.sub, claims.sid, claims.role, claims.jti) == (
        "0b6f1c1e-user",
        "5d3a-session",
        "user",
        "jti-abc",
    )
    assert (claims.iat, claims.exp) == (NOW, NOW + 900)


def test_pyjwt_token_with_audience_list_and_kid_is_accepted(codec: TokenCodec) -> None:
    def encoded(kid: str) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return jwt.encode(
                base_claims(aud=["other", AUDIENCE]),
                SECRET,
                algorithm="HS256",
                headers={"kid": kid},
            )

    assert codec.decode(encoded(base_kid(SECRET)), now=NOW).sub == "0b6f1c1e-user"
    refused(codec, encoded("k1"))  # the same secret, but a key id it does not have


def test_forged_baseline_is_accepted(codec: TokenCodec) -> None:
    """The control for every refusal below: the unchanged forged token passes."""
    assert codec.decode(forge(base_claims()), now=NOW).sid == "5d3a-session"
    assert codec.decode(forge(base_claims(role="admin")), now=NOW).role == "admin"


# -- algorithm ---------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_unsigned_is_refused(codec: TokenCodec, alg: str) -> None:
    unsigned = f"{segment({'alg': alg, 'typ': 'JWT'})}.{segment(base_claims())}."
    refused(codec, unsigned)
    # Without even the trailing dot.
    refused(codec, unsigned[:-1])


def test_alg_none_is_refused_even_when_hmac_signed(codec: TokenCodec) -> None:
    refused(codec, forge(base_claims(), header={"alg": "none", "typ": "JWT"}))


def test_pyjwt_alg_none_is_refused(codec: TokenCodec) -> None:
    token = jwt.encode(base_claims(), None, algorithm="none")
    assert token.endswith(".")
    refused(codec, token)


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_hmac_algs_with_the_same_secret_are_refused(codec: TokenCodec, alg: str) -> None:
    token = pyjwt_encode(base_claims(), alg)
    assert jwt.get_unverified_header(token)["alg"] == alg
    refused(codec, token)


@pytest.mark.parametrize("alg", ["HS384", "HS512", "RS256", "ES256", "PS256", "hs256", "", None])
def test_other_alg_header_is_refused_even_with_a_valid_hs256_signature(
    codec: TokenCodec, alg: str | None
) -> None:
    """The header check itself, not only the signature: alg-confusion tokens are refused."""
    refused(codec, forge(base_claims(), header={"alg": alg, "typ": "JWT"}))


def test_missing_alg_is_refused(codec: TokenCodec) -> None:
    refused(codec, forge(base_claims(), header={"typ": "JWT"}))


def test_rs256_looking_token_is_refused(codec: TokenCodec) -> None:
    header = segment({"alg": "RS256", "typ": "JWT"})
    fake_rsa_signature = b64(bytes(range(256)))
    refused(codec, f"{header}.{segment(base_claims())}.{fake_rsa_signature}")


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "HS256", "typ": "JWS"},
        {"alg": "HS256", "typ": "JWT", "crit": ["exp"]},
        ["HS256"],
        "HS256",
        None,
    ],
    ids=["typ-JWS", "crit", "array", "string", "null"],
)
def test_unsupported_header_is_refused(codec: TokenCodec, header: Any) -> None:
    token = forge_raw(segment(header), segment(base_claims()))
    refused(codec, token)


# -- shape and encoding -----------------------------------------------------------------


@pytest.mark.parametrize("parts", [1, 2, 4, 5])
def test_wrong_number_of_segments_is_refused(codec: TokenCodec, parts: int) -> None:
    header, payload, signature = forge(base_claims()).split(".")
    pieces = [header, payload, signature, signature, signature][:parts]
    refused(codec, ".".join(pieces))


@pytest.mark.parametrize("token", ["", ".", "..", "...", "a.b.c", " "])
def test_garbage_is_refused(codec: TokenCodec, token: str) -> None:
    refused(codec, token)


def test_empty_segments_are_refused_even_when_signed(codec: TokenCodec) -> None:
    refused(codec, forge_raw("", ""))
    refused(codec, forge_raw(segment({"alg": "HS256", "typ": "JWT"}), ""))


@pytest.mark.parametrize(
    "part, damage",
    [
        (part, damage)
        for part in ("header", "payload")
        for damage in ("padding", "std-alphabet", "space", "newline", "tab", "len-mod-4-is-1")
        # No acceptable header has '-' or '_' in its base64url (that takes '>', '?' or '~'
        # in its JSON): test_std_alphabet_header_is_refused_as_an_encoding covers it.
        if (part, damage) != ("header", "std-alphabet")
    ],
)
def test_bad_base64url_is_refused_even_when_signed(
    codec: TokenCodec, part: str, damage: str
) -> None:
    header = {"alg": "HS256", "typ": "JWT"}
    claims = base_claims()
    if damage == "std-alphabet" and part == "payload":
        claims = with_b64_alphabet_chars(claims)
    segs = [segment(header), segment(claims)]
    # The undamaged version is accepted, so only the damage is refused.
    assert codec.decode(forge_raw(segs[0], segs[1]), now=NOW).sub == claims["sub"]
    i = 0 if part == "header" else 1
    seg = segs[i]
    if damage == "padding":
        while len(seg) % 4:
            seg += "="
        if "=" not in seg:  # already a multiple of 4: padding would be absent, add some
            seg += "=="
    elif damage == "std-alphabet":
        assert "-" in seg or "_" in seg
        seg = seg.replace("-", "+").replace("_", "/")
    elif damage == "space":
        seg = seg[:8] + " " + seg[8:]
    elif damage == "newline":
        seg = seg[:8] + "\n" + seg[8:]
    elif damage == "tab":
        seg = seg[:8] + "\t" + seg[8:]
    elif damage == "len-mod-4-is-1":
        seg = seg + "A" * ((1 - len(seg)) % 4)
        assert len(seg) % 4 == 1
    segs[i] = seg
    refused(codec, forge_raw(segs[0], segs[1]))


def test_std_alphabet_header_is_refused_as_an_encoding(codec: TokenCodec) -> None:
    seg = segment({"alg": "HS256", "typ": "JWT", "kid": "~~~???~~~"})
    assert "-" in seg or "_" in seg
    swapped = seg.replace("-", "+").replace("_", "/")
    error = refused(codec, forge_raw(swapped, segment(base_claims())))
    assert error.message == "Malformed token encoding"  # refused as text, before its kid


@pytest.mark.parametrize("where", [0, 1, 2])
@pytest.mark.parametrize("char", ["é", "\xff", "\u2603", "\U0001f600", "\x00", "Ａ"])
def test_non_ascii_and_control_characters_are_refused(
    codec: TokenCodec, where: int, char: str
) -> None:
    """Anywhere in the token; over HTTP a header byte 0xFF arrives as the character 'ÿ'."""
    segs = forge(base_claims()).split(".")
    segs[where] = segs[where][:5] + char + segs[where][5:]
    refused(codec, ".".join(segs))
    segs = forge(base_claims()).split(".")
    segs[where] = segs[where] + char
    refused(codec, ".".join(segs))


def test_signature_must_be_the_canonical_encoding(codec: TokenCodec) -> None:
    token = forge(base_claims())
    body, signature = token.rsplit(".", 1)
    raw = base64.urlsafe_b64decode(signature + "=")
    assert b64(raw) == signature
    refused(codec, f"{body}.{signature}=")  # padded
    refused(codec, f"{body}.{base64.b64encode(raw).decode()}")  # standard alphabet + padding
    refused(codec, f"{body}.{signature[:-1]}")  # truncated
    refused(codec, f"{body}.")  # missing
    refused(codec, f"{body}.{b64(raw[:16])}")  # half an HMAC
    refused(codec, f"{body}.{b64(hashlib.sha256(body.encode()).digest())}")  # unkeyed hash


@pytest.mark.parametrize(
    "segment_text, accepted",
    [
        ("", b""),
        ("QQ", b"A"),
        ("QUI", b"AB"),
        ("QUJD", b"ABC"),
        ("-_-_", base64.urlsafe_b64decode("-_-_")),
    ],
)
def test_b64url_decode_accepts_unpadded_base64url(segment_text: str, accepted: bytes) -> None:
    assert b64url_decode(segment_text) == accepted
    assert b64url_encode(accepted) == segment_text


@pytest.mark.parametrize(
    "segment_text",
    ["QQ==", "QUI=", "QQ=", "+/+/", "ab+c", "ab/c", "Q Q", " QQ", "QQ ", "QQ\n", "Q\tQ"]
    + ["Q", "QUJDR", "QUé", "QQ\xff", "ＱＱ", "Q\x00Q", "QQ.", "QQ!", "QQ*"],
)
def test_b64url_decode_refuses_anything_else(segment_text: str) -> None:
    with pytest.raises(InvalidToken):
        b64url_decode(segment_text)


# -- integrity -------------------------------------------------------------------------


def test_tampered_header_is_refused(codec: TokenCodec) -> None:
    token = forge(base_claims())
    _, payload, signature = token.split(".")
    for header in (
        {"alg": "HS256", "typ": "JWT", "kid": "x"},
        {"alg": "HS256"},
        {"typ": "JWT", "alg": "HS256"},
    ):
        refused(codec, f"{segment(header)}.{payload}.{signature}")


def test_tampered_payload_is_refused(codec: TokenCodec) -> None:
    token = forge(base_claims())
    header, _, signature = token.split(".")
    for claims in (
        base_claims(role="admin"),
        base_claims(sub="someone-else"),
        base_claims(sid="another-session"),
        base_claims(exp=NOW + 10**6),
    ):
        refused(codec, f"{header}.{segment(claims)}.{signature}")


def test_token_signed_with_another_secret_is_refused(codec: TokenCodec) -> None:
    refused(codec, forge(base_claims(), secret=SECRET + b"x"))
    refused(codec, forge(base_claims(), secret=SECRET[:-1]))
    refused(codec, pyjwt_encode(base_claims(), "HS256", secret=b"k" * 64))


def test_signature_of_another_token_is_refused(codec: TokenCodec) -> None:
    mine = forge(base_claims())
    theirs = forge(base_claims(sub="admin-user", role="admin"))
    refused(codec, theirs.rsplit(".", 1)[0] + "." + mine.rsplit(".", 1)[1])


# -- time ------------------------------------------------------------------------------


def test_expired_token_is_token_expired(codec: TokenCodec) -> None:
    token = forge(base_claims(iat=NOW - 1000, exp=NOW - 100))
    with pytest.raises(TokenExpired) as info:
        codec.decode(token, now=NOW)
    assert info.value.status == 401 and info.value.code == "token_expired"


def test_expiry_boundary(codec: TokenCodec) -> None:
    token = forge(base_claims(exp=NOW + 900))
    assert codec.decode(token, now=NOW + 899).exp == NOW + 900
    with pytest.raises(TokenExpired):
        codec.decode(token, now=NOW + 900)  # exp is the first instant it is no longer valid
    with pytest.raises(TokenExpired):
        codec.decode(token, now=NOW + 901)


def test_expiry_gets_no_leeway(codec: TokenCodec) -> None:
    token = forge(base_claims(iat=NOW - 1000, exp=NOW - 5))
    with pytest.raises(TokenExpired):
        codec.decode(token, now=NOW)


def test_fractional_exp_is_honoured(codec: TokenCodec) -> None:
    token = forge(base_claims(exp=NOW + 0.5))
    assert codec.decode(token, now=NOW).exp == NOW
    with pytest.raises(TokenExpired):
        codec.decode(token, now=NOW + 0.5)


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_not_yet_valid_beyond_30s_leeway_is_refused(codec: TokenCodec, claim: str) -> None:
    refused(codec, forge(base_claims(**{claim: NOW + 31})))
    refused(codec, forge(base_claims(**{claim: NOW + 3600})))


@pytest.mark.parametrize("claim", ["iat", "nbf"])
@pytest.mark.parametrize("ahead", [29, 30])
def test_not_yet_valid_within_30s_leeway_is_accepted(
    codec: TokenCodec, claim: str, ahead: int
) -> None:
    claims = codec.decode(forge(base_claims(**{claim: NOW + ahead})), now=NOW)
    assert claims.sub == "0b6f1c1e-user"


def test_leeway_is_configurable(codec: TokenCodec) -> None:
    strict = TokenCodec(SECRET, issuer=ISSUER, audience=AUDIENCE, leeway=0)
    token = forge(base_claims(iat=NOW + 1))
    assert codec.decode(token, now=NOW).iat == NOW + 1
    refused(strict, token)


# -- issuer and audience ------------------------------------------------------------------


@pytest.mark.parametrize("iss", ["other", "Maria", "maria ", "", 1, None, ["maria"]])
def test_wrong_issuer_is_refused(codec: TokenCodec, iss: Any) -> None:
    refused(codec, forge(base_claims(iss=iss)))


def test_missing_issuer_is_refused(codec: TokenCodec) -> None:
    refused(codec, forge(without(base_claims(), "iss")))


@pytest.mark.parametrize("aud", ["other", "Kinoway", "", 1, None, ["other"], [], {"kinoway": 1}])
def test_wrong_audience_is_refused(codec: TokenCodec, aud: Any) -> None:
    refused(codec, forge(base_claims(aud=aud)))


def test_missing_audience_is_refused(codec: TokenCodec) -> None:
    refused(codec, forge(without(base_claims(), "aud")))


def test_audience_list_containing_ours_is_accepted(codec: TokenCodec) -> None:
    assert codec.decode(forge(base_claims(aud=["x", AUDIENCE])), now=NOW).sub


# -- required claims and their types ------------------------------------------------------


def test_missing_exp_is_refused(codec: TokenCodec) -> None:
    refused(codec, forge(without(base_claims(), "exp")))


@pytest.mark.parametrize("claim", ["iat", "sub", "sid", "jti", "role"])
def test_missing_required_claim_is_refused(codec: TokenCodec, claim: str) -> None:
    refused(codec, forge(without(base_claims(), claim)))


@pytest.mark.parametrize("claim", ["sub", "sid", "jti", "role"])
@pytest.mark.parametrize("value", ["", 1, None, True, ["x"], {"x": 1}])
def test_string_claims_must_be_non_empty_strings(codec: TokenCodec, claim: str, value: Any) -> None:
    refused(codec, forge(base_claims(**{claim: value})))


NOT_A_NUMERIC_DATE = ['"1700000900"', "true", "false", "null", "[1700000900]", "{}"]
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("raw", NOT_A_NUMERIC_DATE + NON_FINITE)
def test_numeric_date_claims_must_be_finite_numbers(
    codec: TokenCodec, claim: str, raw: str
) -> None:
    """Written as raw JSON text: Python's json reads NaN/Infinity, which compare oddly."""
    placeholder = "__NUMERIC__"
    text = json.dumps(base_claims(**{claim: placeholder}), separators=(",", ":"))
    text = text.replace(f'"{placeholder}"', raw)
    assert placeholder not in text
    refused(codec, forge(None, payload_text=text))


@pytest.mark.parametrize("role", ["superuser", "Admin", "USER", "root", " user", "user "])
def test_unknown_role_is_refused(codec: TokenCodec, role: str) -> None:
    refused(codec, forge(base_claims(role=role)))


# -- payload shape and size ------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload_text",
    [
        json.dumps([base_claims()]),
        json.dumps("sub"),
        "42",
        "null",
        "true",
        "",
        "{",
        "{'sub': 'x'}",
        "[" * 3000 + "]" * 3000,  # deep nesting: RecursionError in json, under 8 KiB
        '{"sub":' * 700 + "1" + "}" * 700,
    ],
    ids=["array", "string", "number", "null", "bool", "empty", "truncated", "quotes", "deep-array"]
    + ["deep-object"],
)
def test_payload_that_is_not_a_json_object_is_refused(codec: TokenCodec, payload_text: str) -> None:
    token = forge(None, payload_text=payload_text)
    assert len(token) <= MAX_TOKEN_BYTES
    refused(codec, token)


def test_payload_that_is_not_utf8_is_refused(codec: TokenCodec) -> None:
    raw = json.dumps(base_claims()).encode().replace(b"jti-abc", b"jti-\xff\xfe")
    refused(codec, forge_raw(segment({"alg": "HS256", "typ": "JWT"}), b64(raw)))


def test_max_token_size_is_8_kib() -> None:
    assert MAX_TOKEN_BYTES == 8 * 1024


def test_token_of_exactly_8_kib_is_accepted(codec: TokenCodec) -> None:
    token = sized_token(MAX_TOKEN_BYTES)
    assert codec.decode(token, now=NOW).sub == "0b6f1c1e-user"


@pytest.mark.parametrize("size", [MAX_TOKEN_BYTES + 1, MAX_TOKEN_BYTES + 3, 64 * 1024])
def test_token_over_8_kib_is_refused_even_when_valid(codec: TokenCodec, size: int) -> None:
    token = sized_token(size)
    assert len(token) == size
    with pytest.raises(InvalidToken):
        codec.verify_signature(token)
    refused(codec, token)


# -- duplicate names and foreign header parameters ----------------------------------------


@pytest.mark.parametrize(
    "payload_text",
    [
        # The last duplicate used to win: a signed token read as admin.
        json.dumps(base_claims())[:-1] + ', "role": "admin"}',
        json.dumps(base_claims())[:-1] + ', "sub": "someone-else"}',
        json.dumps(base_claims())[:-1] + ', "role": "user"}',  # even the same value
        json.dumps(base_claims())[:-1] + ', "x": {"a": 1, "a": 2}}',  # nested too
    ],
    ids=["role", "sub", "same-value", "nested"],
)
def test_duplicate_payload_names_are_refused(codec: TokenCodec, payload_text: str) -> None:
    assert codec.decode(forge(None, payload_text=json.dumps(base_claims())), now=NOW)
    refused(codec, forge(None, payload_text=payload_text))


@pytest.mark.parametrize(
    "header_text",
    [
        '{"alg":"HS256","typ":"JWT","alg":"HS256"}',
        '{"alg":"none","typ":"JWT","alg":"HS256"}',
        '{"alg":"HS256","typ":"JWT","kid":"x","kid":"%s"}',
    ],
)
def test_duplicate_header_names_are_refused(codec: TokenCodec, header_text: str) -> None:
    header_text = header_text.replace("%s", base_kid(SECRET))
    refused(codec, forge_raw(b64(header_text.encode()), segment(base_claims())))


@pytest.mark.parametrize(
    "extra",
    [
        {"crit": ["exp"]},
        {"crit": []},
        {"jku": "https://evil.test/jwks.json"},
        {"x5u": "https://evil.test/cert.pem"},
        {"jwk": {"kty": "oct", "k": b64(SECRET)}},
        {"x5c": ["MIIB"]},
        {"x5t": "abc"},
        {"b64": False},
        {"zip": "DEF"},
        {"cty": "JWT"},
    ],
    ids=lambda extra: next(iter(extra)),
)
def test_foreign_header_parameters_are_refused(codec: TokenCodec, extra: dict[str, Any]) -> None:
    header = {"alg": "HS256", "typ": "JWT", "kid": base_kid(SECRET)}
    assert codec.decode(forge(base_claims(), header=header), now=NOW)
    refused(codec, forge(base_claims(), header={**header, **extra}))


def test_issued_header_carries_the_secrets_kid(codec: TokenCodec) -> None:
    token, _ = codec.issue(sub="u-1", sid="s-1", role="user", jti="j-1", iat=NOW, ttl=900)
    assert jwt.get_unverified_header(token)["kid"] == base_kid(SECRET)
    # Unknown kids are refused though the secret is the same.
    for kid in ("other", base_kid(SECRET + b"x")):
        refused(codec, forge(base_claims(), header={"alg": "HS256", "typ": "JWT", "kid": kid}))
