"""The attack tokens, built against one running server from a real signed-in user's claims.

Where an attack needs a valid signature (duplicate names, ``crit``, an expired token), it is
signed with the server's own key: HS256 with MARIA_SECRET_KEY, EdDSA/ES256 with the private
key read from the server's database and unsealed with MARIA_SECRET_KEY, as only the key's
holder could. ``baseline`` is the same forging with nothing changed, and must be accepted:
so each refusal is the rule's, not a forging mistake.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from maria.keys.jws import SigningKey, base_kid
from maria.keys.material import Sealer, make_key
from tests.support.api import TEST_SECRET

SECRET = TEST_SECRET.encode()
MEGABYTE = 1024 * 1024


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def seg(obj: Any) -> str:
    """A segment from JSON text (a str is taken as the exact text) or an object."""
    text = obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"))
    return b64(text.encode())


def hs256(key: bytes, signing_input: str) -> str:
    return b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def server_key(alg: str, data_dir: Path) -> SigningKey:
    """The key the server signs with (the secret's own for HS256; else the newest stored)."""
    if alg == "HS256":
        return make_key(base_kid(SECRET), alg, SECRET)
    with sqlite3.connect(data_dir / "maria.db") as db:
        kid, sealed = db.execute(
            "SELECT kid, secret FROM signing_keys WHERE alg = ? AND retired_at IS NULL "
            "ORDER BY seq DESC LIMIT 1",
            (alg,),
        ).fetchone()
    return make_key(kid, alg, Sealer(SECRET).open(kid, alg, sealed))


@dataclass
class Attack:
    name: str
    token: str
    code: str = "invalid_token"  # the expected error code (401)
    # A control character in a header is refused by uvicorn's HTTP parser (400, its own
    # body) before Maria sees it: RFC 9110 forbids them in field values.
    over_http: bool = True

    @property
    def frame_fits(self) -> bool:
        """Whether it fits a room socket's 16 KiB frame (else that is the refusal)."""
        return len(self.token) < 16 * 1024 - 64


@dataclass
class Forger:
    """Signs anything with the server's key; builds the catalogue."""

    alg: str
    key: SigningKey
    claims: dict[str, Any]
    public_jwk: dict[str, str] | None
    attacks: list[Attack] = field(default_factory=list)

    @property
    def header(self) -> dict[str, Any]:
        return {"alg": self.alg, "typ": "JWT", "kid": self.key.kid}

    def sign(self, header: Any = None, claims: Any = None) -> str:
        header = self.header if header is None else header
        claims = self.claims if claims is None else claims
        signing_input = f"{seg(header)}.{seg(claims)}"
        return f"{signing_input}.{self.key.sign(signing_input)}"

    def add(self, name: str, token: str, code: str = "invalid_token", http: bool = True) -> None:
        self.attacks.append(Attack(name, token, code, http))

    def with_claims(self, **changes: Any) -> dict[str, Any]:
        return {**self.claims, **changes}

    def duplicate(self, name: str, value: Any) -> str:
        """The payload's JSON text with ``name`` given twice, ``value`` last."""
        text = json.dumps(self.claims, separators=(",", ":"))
        return text[:-1] + "," + json.dumps(name) + ":" + json.dumps(value) + "}"


def catalogue(alg: str, data_dir: Path, token: str, jwks: dict[str, Any]) -> list[Attack]:
    claims = claims_of(token)
    key = server_key(alg, data_dir)
    public = next((k for k in jwks["keys"] if k["kid"] == key.kid), None)
    f = Forger(alg, key, claims, public)
    f.attacks.append(Attack("baseline", f.sign(), code=""))  # accepted: the control
    now = int(time.time())
    body = f"{seg(f.header)}.{seg(claims)}"
    good = f.sign()
    sig = good.rsplit(".", 1)[1]

    # -- alg none in every casing, and the configured alg in other casings
    for none in ("none", "None", "NONE", "nOnE"):
        unsigned = f"{seg({**f.header, 'alg': none})}.{seg(claims)}"
        f.add(f"alg-{none}", unsigned + ".")
        f.add(f"alg-{none}-no-dot", unsigned)
        f.add(f"alg-{none}-with-signature", f"{unsigned}.{sig}")
        f.add(f"alg-{none}-no-kid", f"{seg({'alg': none, 'typ': 'JWT'})}.{seg(claims)}.")
    for other in {alg.lower(), alg.upper(), alg.capitalize(), alg.swapcase()} - {alg}:
        f.add(f"alg-casing-{other}", f.sign({**f.header, "alg": other}))
    f.add("alg-missing", f.sign({"typ": "JWT", "kid": key.kid}))
    f.add("alg-null", f.sign({**f.header, "alg": None}))
    f.add("alg-list", f.sign({**f.header, "alg": [alg]}))
    for foreign in ("HS384", "HS512", "RS256", "PS256", "ES384", "ES256K", "EdDSA", "ES256"):
        if foreign != alg:
            f.add(f"alg-{foreign}", f"{seg({**f.header, 'alg': foreign})}.{seg(claims)}.{sig}")

    # -- key confusion: the public key (every spelling) as an HMAC secret
    if public is not None:
        pub = key._public  # type: ignore[attr-defined]
        spellings = {
            "pem": pub.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "der": pub.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "jwk-json": json.dumps(public).encode(),
            "x-text": public["x"].encode(),
            "x-raw": base64.urlsafe_b64decode(public["x"] + "=="),
        }
        for spelled, secret in spellings.items():
            for header_alg in ("HS256", alg):
                header = seg({"alg": header_alg, "typ": "JWT", "kid": key.kid})
                signing_input = f"{header}.{seg(claims)}"
                f.add(
                    f"confusion-{header_alg}-{spelled}",
                    f"{signing_input}.{hs256(secret, signing_input)}",
                )
    # The HS256 secret where an asymmetric key is configured (or any key: its kid).
    hs_input = f"{seg({'alg': 'HS256', 'typ': 'JWT', 'kid': base_kid(SECRET)})}.{seg(claims)}"
    if alg != "HS256":
        f.add("confusion-secret-hs256", f"{hs_input}.{hs256(SECRET, hs_input)}")

    # -- kid injection (signed with the right key: only the kid is wrong)
    for name, kid in {
        "path-traversal": "../../../../../../etc/passwd",
        "dev-null": "/dev/null",
        "windows-path": "..\\..\\keys\\k.pem",
        "sql-or": "' OR '1'='1",
        "sql-union": "x' UNION SELECT 'secret' --",
        "sql-drop": "k'; DROP TABLE signing_keys; --",
        "url": "https://evil.test/jwks.json#k",
        "nul": "kid\x00",
        "long": "k" * 10_000,
        "empty": "",
        "number": 1,
        "object": {"kid": key.kid},
        "list": [key.kid],
        "unknown": "AAAAAAAAAAAAAAAA",
    }.items():
        f.add(f"kid-{name}", f.sign({**f.header, "kid": kid}))
    # /dev/null's content as the key: an HMAC with an empty secret.
    empty_input = f"{seg({'alg': 'HS256', 'typ': 'JWT', 'kid': '/dev/null'})}.{seg(claims)}"
    f.add("kid-dev-null-empty-key", f"{empty_input}.{hs256(b'', empty_input)}")

    # -- where to fetch a key from: refused however well signed
    attacker_ec = ec.generate_private_key(ec.SECP256R1())
    attacker_ed = Ed25519PrivateKey.generate()
    own_ec = make_key(
        "attacker-ec", "ES256", attacker_ec.private_numbers().private_value.to_bytes(32, "big")
    )
    own_ed = make_key("attacker-ed", "EdDSA", attacker_ed.private_bytes_raw())
    for name, extra in {
        "jku": {"jku": "http://127.0.0.1:9/jwks.json"},
        "x5u": {"x5u": "http://127.0.0.1:9/cert.pem"},
        "x5c": {"x5c": ["MIIBszCCAVmgAwIBAgIUQ"]},
        "jwk-own-key": {"jwk": own_ec.public_jwk()},
        "crit-exp": {"crit": ["exp"]},
        "crit-empty": {"crit": []},
        "crit-unknown": {"crit": ["maria-trust-me"], "maria-trust-me": True},
        "b64-false": {"b64": False, "crit": ["b64"]},
    }.items():
        f.add(f"header-{name}", f.sign({**f.header, **extra}))
    for own in (own_ec, own_ed):
        jwk = own.public_jwk()
        assert jwk is not None
        for with_kid in (True, False):
            header: dict[str, Any] = {"alg": own.alg, "typ": "JWT", "jwk": jwk}
            if with_kid:
                header["kid"] = key.kid
            signing_input = f"{seg(header)}.{seg(claims)}"
            f.add(
                f"embedded-jwk-{own.alg}-{'kid' if with_kid else 'no-kid'}",
                f"{signing_input}.{own.sign(signing_input)}",
            )
        # Signed by the attacker's key, naming the server's kid (no jwk at all).
        header = {"alg": own.alg, "typ": "JWT", "kid": key.kid}
        signing_input = f"{seg(header)}.{seg(claims)}"
        f.add(f"attacker-key-{own.alg}", f"{signing_input}.{own.sign(signing_input)}")

    # -- signatures
    raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    f.add("signature-empty", f"{body}.")
    f.add("signature-missing", body)
    f.add("signature-truncated-1", f"{body}.{sig[:-1]}")
    f.add("signature-truncated-half", f"{body}.{sig[: len(sig) // 2]}")
    f.add("signature-duplicated", f"{body}.{sig}{sig}")
    f.add("signature-twice", f"{body}.{sig}.{sig}")
    f.add("signature-padded", f"{body}.{sig}=")
    f.add("signature-std-alphabet", f"{body}.{base64.b64encode(raw).decode()}")
    f.add("signature-zeros", f"{body}.{b64(bytes(len(raw)))}")
    f.add("signature-bit-flip", f"{body}.{b64(raw[:-1] + bytes([raw[-1] ^ 1]))}")
    other = f.sign(claims=f.with_claims(jti="another-token"))
    f.add("signature-of-another-token", f"{body}.{other.rsplit('.', 1)[1]}")

    # -- duplicate JSON names (signed by the key's holder)
    f.add("duplicate-payload-role", f.sign(claims=f.duplicate("role", "admin")))
    f.add("duplicate-payload-sub", f.sign(claims=f.duplicate("sub", "someone-else")))
    f.add("duplicate-payload-exp", f.sign(claims=f.duplicate("exp", now + 10**8)))
    hdr = json.dumps(f.header, separators=(",", ":"))
    f.add("duplicate-header-alg", f.sign(header=hdr[:-1] + ',"alg":"none"}'))
    f.add("duplicate-header-kid", f.sign(header=hdr[:-1] + ',"kid":"AAAAAAAAAAAAAAAA"}'))
    f.add("duplicate-header-same", f.sign(header=hdr[:-1] + f',"kid":"{key.kid}"}}'))

    # -- tampering after signing
    for name, changed in {
        "role-admin": f.with_claims(role="admin"),
        "sub": f.with_claims(sub="00000000-0000-0000-0000-000000000000"),
        "exp": f.with_claims(exp=now + 10**8),
        "sid": f.with_claims(sid="00000000-0000-0000-0000-000000000000"),
    }.items():
        f.add(f"tampered-{name}", f"{seg(f.header)}.{seg(changed)}.{sig}")
    f.add("tampered-header", f"{seg({**f.header, 'typ': 'JWT '})}.{seg(claims)}.{sig}")

    # -- time, issuer, audience (signed)
    f.add("expired", f.sign(claims=f.with_claims(iat=now - 2000, exp=now - 100)), "token_expired")
    f.add("nbf-in-future", f.sign(claims=f.with_claims(nbf=now + 3600)))
    f.add("iat-in-future", f.sign(claims=f.with_claims(iat=now + 3600, exp=now + 7200)))
    f.add("exp-string", f.sign(claims=f.with_claims(exp=str(now + 900))))
    f.add("wrong-iss", f.sign(claims=f.with_claims(iss="evil")))
    f.add("wrong-aud", f.sign(claims=f.with_claims(aud="another-service")))
    f.add("wrong-aud-list", f.sign(claims=f.with_claims(aud=["another-service"])))
    f.add("role-unknown", f.sign(claims=f.with_claims(role="root")))

    # -- size and bytes
    f.add("one-megabyte-garbage", "a" * MEGABYTE)
    f.add("one-megabyte-signed", f.sign(claims=f.with_claims(pad="x" * MEGABYTE)))
    f.add("just-over-8-kib-signed", f.sign(claims=f.with_claims(pad="x" * 8192)))
    f.add("non-ascii-e-acute", good[:10] + "é" + good[10:])
    f.add("non-ascii-latin1-ff", good[:10] + "\xff" + good[10:])
    f.add("non-ascii-in-signature", good[:-2] + "Ω" + good[-1:])
    f.add("non-ascii-fullwidth", good.replace(".", "．", 1))
    for ch in ("!", "*", "$", "+", "/", "=", "~", " ", "%", "\\"):
        f.add(f"non-base64url-{ord(ch):02x}", good[:12] + ch + good[13:])
    f.add("non-base64url-in-signature", good[:-3] + "+/" + good[-1:])
    f.add("control-character", good[:12] + "\x01" + good[13:], http=False)
    f.add("only-dots", "..")
    f.add("four-segments", good + ".e30")
    f.add("json-not-object", f.sign(claims="[1,2,3]"))
    f.add("json-not-json", f"{seg(f.header)}.{b64(b'not json')}.{sig}")
    f.add("json-deep", f.sign(claims="[" * 2000 + "]" * 2000))
    return f.attacks
