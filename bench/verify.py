"""Access-token verification per signing algorithm (issue 11), in-process, no servers.

    .venv/bin/python bench/verify.py [--number 20000] [--repeat 7]

For HS256, EdDSA (Ed25519) and ES256 (P-256): Maria's ``TokenCodec.decode`` of a token it
issued (the header found by its exact text, the signature checked, the claims read and
checked), the same with a forged signature (refused), and PyJWT's ``jwt.decode`` with the
same key for comparison. µs per token, best of ``--repeat`` runs of ``--number``, and the
ratio to HS256. Exit status 0 when every algorithm verifies under its goal.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import secrets
import sys
import time
import timeit
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout even without the editable install

GOALS_US = {"HS256": 15.0, "EdDSA": 150.0, "ES256": 150.0}


def measure(fn: Any, number: int, repeat: int) -> float:
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    import jwt

    from maria.auth.tokens import TokenCodec
    from maria.keys.jws import KeySet
    from maria.keys.material import make_key, new_kid, new_secret

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--number", type=int, default=20_000)
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args(argv)

    class Static:
        def __init__(self, keys: KeySet) -> None:
            self.current = keys

    print(f"token verification, {platform.python_implementation()} {platform.python_version()}")
    print(f"best of {args.repeat} x {args.number:,} (ES256: a tenth as many)\n")
    print(f"{'alg':6} {'Maria decode':>13} {'x HS256':>8} {'forged':>9} {'PyJWT':>9} {'goal':>8}")
    results: dict[str, float] = {}
    ok = True
    for alg in ("HS256", "EdDSA", "ES256"):
        secret = new_secret(alg)
        key = make_key(new_kid(), alg, secret)
        codec = TokenCodec(Static(KeySet.of(key)), issuer="maria", audience="kinoway")
        token, _ = codec.issue(
            sub="6f1c2a64-0f4e-4c1b-9a57-3f2d8e1b9c40",
            sid="0b8e3c1e-5d0a-4f57-8a53-2b1de9c7a6f2",
            role="user",
            jti=secrets.token_urlsafe(16),
            iat=int(time.time()),
            ttl=900,
            email_verified=True,
        )
        body, sig = token.rsplit(".", 1)
        forged = f"{body}.{sig[:10]}{'A' if sig[10] != 'A' else 'B'}{sig[11:]}"
        verifier: Any = secret if alg == "HS256" else key._private.public_key()  # type: ignore[attr-defined]
        number = args.number if alg != "ES256" else max(1, args.number // 10)

        def ours(token: str = token, codec: TokenCodec = codec) -> None:
            codec.decode(token)

        def refused(forged: str = forged, codec: TokenCodec = codec) -> None:
            with contextlib.suppress(Exception):
                codec.decode(forged)

        def pyjwt(token: str = token, verifier: Any = verifier, alg: str = alg) -> None:
            jwt.decode(token, verifier, algorithms=[alg], audience="kinoway", issuer="maria")

        us = measure(ours, number, args.repeat)
        bad = measure(refused, number, args.repeat)
        theirs = measure(pyjwt, number, args.repeat)
        results[alg] = us
        ratio = us / results["HS256"]
        ok = ok and us < GOALS_US[alg]
        print(
            f"{alg:6} {us:10.2f} µs {ratio:7.1f}x {bad:6.2f} µs {theirs:6.2f} µs "
            f"{'<':>2} {GOALS_US[alg]:g} µs {'PASS' if us < GOALS_US[alg] else 'FAIL'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
