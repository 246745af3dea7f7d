"""The key kinds and the codec over a key set, in-process: EdDSA and ES256 tokens verify
with PyJWT given only the published JWK; key sets refuse what they do not hold; secrets
sealed for the database open only with their own MARIA_SECRET_KEY, in their own row."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from maria.auth.tokens import TokenCodec
from maria.errors import InvalidToken, Unavailable
from maria.keys.jws import (
    EDDSA,
    ES256,
    HS256,
    Ed25519Key,
    HmacKey,
    KeySet,
    P256Key,
    Signer,
    SigningKey,
    b64url_decode,
    b64url_encode,
    base_kid,
)
from maria.keys.material import SealBroken, Sealer, make_key, new_kid, new_secret
from tests.support.tokens import AUDIENCE, ISSUER, NOW, SECRET, b64, base_claims, segment

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class Static:
    def __init__(self, keys: KeySet) -> None:
        self.current = keys


def codec_of(*keys: SigningKey, default: SigningKey | None = None, loaded: bool = True) -> Any:
    signers = tuple(Signer(len(keys) - i, 0.0, k) for i, k in enumerate(keys))
    keyset = KeySet(keys[0].alg, signers, default=default, loaded=loaded)
    return TokenCodec(Static(keyset), issuer=ISSUER, audience=AUDIENCE)


def asymmetric(alg: str) -> SigningKey:
    return make_key(new_kid(), alg, new_secret(alg))


def issue(codec: TokenCodec, **claims: Any) -> str:
    values = {"sub": "u-1", "sid": "s-1", "role": "user", "jti": "j-1", "iat": NOW, "ttl": 900}
    values.update(claims)
    token, _ = codec.issue(**values)
    return token


def signed(key: SigningKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    signing_input = f"{segment(header)}.{segment(claims)}"
    return f"{signing_input}.{key.sign(signing_input)}"


def pyjwt_key(key: SigningKey) -> Any:
    jwk = key.public_jwk()
    assert jwk is not None
    return jwt.PyJWK(jwk).key


@pytest.mark.parametrize("alg", [EDDSA, ES256])
def test_asymmetric_tokens_verify_with_pyjwt_from_the_jwk_alone(alg: str) -> None:
    key = asymmetric(alg)
    token = issue(codec_of(key))
    assert jwt.get_unverified_header(token) == {"alg": alg, "typ": "JWT", "kid": key.kid}
    claims = jwt.decode(
        token,
        pyjwt_key(key),
        algorithms=[alg],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["sub"] == "u-1"
    assert codec_of(key).decode(token, now=NOW).sub == "u-1"


@pytest.mark.parametrize("alg", [EDDSA, ES256])
def test_pyjwt_signed_asymmetric_tokens_are_accepted(alg: str) -> None:
    """Signed by PyJWT with the same private key: the formats agree both ways."""
    key = asymmetric(alg)
    private = key._private  # type: ignore[attr-defined]
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    token = jwt.encode(base_claims(), pem, algorithm=alg, headers={"kid": key.kid})
    if alg == ES256:  # PyJWT does not normalise S; Maria accepts the low-S form only
        head, sig = token.rsplit(".", 1)
        raw = b64url_decode(sig)
        r, s = raw[:32], int.from_bytes(raw[32:], "big")
        if s > P256_ORDER // 2:
            token = f"{head}.{b64(r + (P256_ORDER - s).to_bytes(32, 'big'))}"
    assert codec_of(key).decode(token, now=NOW).sub == base_claims()["sub"]


@pytest.mark.parametrize("alg", [EDDSA, ES256])
def test_asymmetric_signatures_are_strict(alg: str) -> None:
    key = asymmetric(alg)
    codec = codec_of(key)
    token = issue(codec)
    assert codec.decode(token, now=NOW)
    body, sig = token.rsplit(".", 1)
    raw = b64url_decode(sig)
    bad = [
        f"{body}.",  # empty
        f"{body}.{sig[:-1]}",  # truncated
        f"{body}.{sig[:-4]}",
        f"{body}.{sig}{sig}",  # duplicated
        f"{body}.{sig}.{sig}",
        f"{body}.{b64(raw[:32])}",
        f"{body}.{b64(raw + bytes(1))}",
        f"{body}.{sig}=",
        f"{body}.{b64(bytes(64))}",
        f"{body}.{b64(bytes(reversed(raw)))}",
    ]
    # The last character holds unused low bits: another spelling of the same bytes.
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spelled = next(
        f"{body}.{sig[:-1]}{c}" for c in last if c != sig[-1] and b64url_decode(sig[:-1] + c) == raw
    )
    bad.append(spelled)
    for token_ in bad:
        with pytest.raises(InvalidToken):
            codec.decode(token_, now=NOW)


def test_es256_high_s_twin_is_refused() -> None:
    """(r, n - s) is the same signature to ECDSA; Maria signs low S and accepts only that."""
    key = asymmetric(ES256)
    codec = codec_of(key)
    for _ in range(8):
        token = issue(codec, jti=new_kid())
        body, sig = token.rsplit(".", 1)
        raw = b64url_decode(sig)
        s = int.from_bytes(raw[32:], "big")
        assert s <= P256_ORDER // 2
        twin = f"{body}.{b64(raw[:32] + (P256_ORDER - s).to_bytes(32, 'big'))}"
        # The twin is a valid ECDSA signature (PyJWT takes it), but not Maria's spelling.
        jwt.decode(
            twin, pyjwt_key(key), algorithms=[ES256], audience=AUDIENCE, options={"verify_exp": 0}
        )
        with pytest.raises(InvalidToken):
            codec.decode(twin, now=NOW)


@pytest.mark.parametrize("alg", [EDDSA, ES256])
def test_public_key_as_hmac_secret_is_refused(alg: str) -> None:
    """HS256 signed with every spelling of the public key, naming the key's kid."""
    key = asymmetric(alg)
    codec = codec_of(key)
    jwk = key.public_jwk()
    assert jwk is not None
    public = key._public  # type: ignore[attr-defined]
    spellings = [
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        json.dumps(jwk).encode(),
        jwk["x"].encode(),
        b64url_decode(jwk["x"]),
    ]
    for secret in spellings:
        forged = HmacKey(key.kid, secret)
        for header_alg in ("HS256", alg):
            token = signed(forged, {"alg": header_alg, "typ": "JWT", "kid": key.kid}, base_claims())
            with pytest.raises(InvalidToken):
                codec.decode(token, now=NOW)


def test_a_key_set_of_another_algorithm_refuses_hs256_with_its_secret() -> None:
    """Configured EdDSA: an HS256 token of MARIA_SECRET_KEY is refused, however signed."""
    ed = asymmetric(EDDSA)
    codec = codec_of(ed)
    hs = HmacKey(base_kid(SECRET), SECRET)
    for header in (
        {"alg": HS256, "typ": "JWT", "kid": hs.kid},
        {"alg": HS256, "typ": "JWT"},
        {"alg": HS256, "typ": "JWT", "kid": ed.kid},
    ):
        with pytest.raises(InvalidToken):
            codec.decode(signed(hs, header, base_claims()), now=NOW)


@pytest.mark.parametrize("alg", ["EDDSA", "eddsa", "Ed25519", "es256", "ES384", "HS256", "none"])
def test_alg_must_be_exactly_the_configured_one(alg: str) -> None:
    key = asymmetric(EDDSA)
    token = signed(key, {"alg": alg, "typ": "JWT", "kid": key.kid}, base_claims())
    with pytest.raises(InvalidToken):
        codec_of(key).decode(token, now=NOW)
    # The control: the same key and claims with the right alg pass.
    ok = signed(key, {"alg": EDDSA, "typ": "JWT", "kid": key.kid}, base_claims())
    assert codec_of(key).decode(ok, now=NOW)


def test_older_keys_verify_the_newest_signs() -> None:
    old, new = HmacKey("old-key", b"o" * 32), HmacKey("new-key", b"n" * 32)
    codec = codec_of(new, old)
    assert jwt.get_unverified_header(issue(codec))["kid"] == "new-key"
    old_token = issue(codec_of(old))
    assert codec.decode(old_token, now=NOW).sub == "u-1"
    # Without the old key in the set (retired), its tokens are refused.
    with pytest.raises(InvalidToken):
        codec_of(new).decode(old_token, now=NOW)


def test_a_signer_waits_for_its_activation_time() -> None:
    old, new = HmacKey("old-key", b"o" * 32), HmacKey("new-key", b"n" * 32)
    keys = KeySet(HS256, (Signer(2, NOW + 5.0, new), Signer(1, 0.0, old)))
    assert keys.signing(NOW) is old
    assert keys.signing(NOW + 5.0) is new
    assert KeySet(EDDSA).signing(NOW) is None


def test_no_kid_reads_as_the_default_key_only() -> None:
    base = HmacKey(base_kid(SECRET), SECRET)
    other = HmacKey("other-key", b"o" * 32)
    no_kid = {"alg": HS256, "typ": "JWT"}
    assert codec_of(other, base, default=base).decode(signed(base, no_kid, base_claims()), now=NOW)
    with pytest.raises(InvalidToken):  # no default (retired): a kid is needed
        codec_of(other, base).decode(signed(base, no_kid, base_claims()), now=NOW)
    with pytest.raises(InvalidToken):  # the default is never another key's stand-in
        codec_of(other, base, default=base).decode(signed(other, no_kid, base_claims()), now=NOW)


@pytest.mark.parametrize(
    "kid",
    [
        "../../etc/passwd",
        "' OR '1'='1",
        "x'; DROP TABLE signing_keys; --",
        "/dev/null",
        "k" * 65,
        "",
        "kid\x00",
        "https://evil.test/k",
        1,
        None,
        ["k"],
        {"k": 1},
    ],
)
def test_kid_injection_is_refused(kid: Any) -> None:
    key = HmacKey(base_kid(SECRET), SECRET)
    token = signed(key, {"alg": HS256, "typ": "JWT", "kid": kid}, base_claims())
    with pytest.raises(InvalidToken):
        codec_of(key, default=key).decode(token, now=NOW)


def test_unknown_kid_before_the_keys_are_loaded_is_503() -> None:
    """It may be a key this instance has not read yet: 'try again', not 'sign in again'."""
    key = HmacKey(base_kid(SECRET), SECRET)
    token = signed(
        HmacKey("not-read-yet", b"n" * 32),
        {"alg": HS256, "typ": "JWT", "kid": "not-read-yet"},
        base_claims(),
    )
    with pytest.raises(Unavailable):
        codec_of(key, default=key, loaded=False).decode(token, now=NOW)
    with pytest.raises(InvalidToken):
        codec_of(key, default=key, loaded=True).decode(token, now=NOW)


def test_no_signing_key_is_503() -> None:
    codec = TokenCodec(Static(KeySet(EDDSA)), issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(Unavailable):
        issue(codec)


# -- keys sealed at rest ---------------------------------------------------------------


@pytest.mark.parametrize("alg", [HS256, EDDSA, ES256])
def test_sealed_secrets_open_with_their_master_and_row_only(alg: str) -> None:
    sealer = Sealer(SECRET)
    kid, secret = new_kid(), new_secret(alg)
    sealed = sealer.seal(kid, alg, secret)
    assert secret not in sealed
    assert sealer.open(kid, alg, sealed) == secret
    assert Sealer(SECRET).open(kid, alg, sealed) == secret  # another instance, same secret
    with pytest.raises(SealBroken):
        Sealer(SECRET + b"x").open(kid, alg, sealed)
    with pytest.raises(SealBroken):
        sealer.open(new_kid(), alg, sealed)  # moved to another row
    with pytest.raises(SealBroken):
        sealer.open(kid, HS256 if alg != HS256 else EDDSA, sealed)
    flipped = bytearray(sealed)
    flipped[-1] ^= 1
    for broken in (bytes(flipped), sealed[:10], b"", b"\x02" + sealed[1:]):
        with pytest.raises(SealBroken):
            sealer.open(kid, alg, broken)
    assert sealer.seal(kid, alg, secret) != sealed  # a fresh nonce each time


def test_key_kinds_and_ids() -> None:
    assert isinstance(make_key(new_kid(), HS256, new_secret(HS256)), HmacKey)
    assert isinstance(make_key(new_kid(), EDDSA, new_secret(EDDSA)), Ed25519Key)
    assert isinstance(make_key(new_kid(), ES256, new_secret(ES256)), P256Key)
    assert len(new_kid()) == len(base_kid(SECRET)) == 16
    assert base_kid(SECRET) == base_kid(SECRET) != base_kid(SECRET + b"x")
    with pytest.raises(ValueError):
        HmacKey("../k", SECRET)
    assert b64url_encode(b64url_decode("QUJD")) == "QUJD"
