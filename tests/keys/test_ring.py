"""The key ring on a real database (SQLite and Postgres): what a deployment that never
rotates looks like, rotation, retirement and its rules, the first asymmetric key, and keys
sealed with another MARIA_SECRET_KEY."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from sqlalchemy import select, text

from maria.auth.tokens import TokenCodec
from maria.db import Database, open_database
from maria.errors import InvalidToken
from maria.keys.jws import EDDSA, ES256, HS256, base_kid
from maria.keys.models import StoredKey
from maria.keys.service import KeyProblem, KeyRing
from tests.support.servers import converge
from tests.support.tokens import AUDIENCE, ISSUER, SECRET

LIFETIME = 930.0


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = open_database(database_url)
    try:
        yield db
    finally:
        await db.close()


def ring_of(database: Database, alg: str = HS256, secret: bytes = SECRET, **kw: Any) -> KeyRing:
    kw.setdefault("activation_delay", 0.3)
    return KeyRing(database, secret=secret, alg=alg, token_lifetime=LIFETIME, **kw)


def codec_of(ring: KeyRing) -> TokenCodec:
    return TokenCodec(ring, issuer=ISSUER, audience=AUDIENCE)


def issue(codec: TokenCodec) -> str:
    token, _ = codec.issue(
        sub="u-1", sid="s-1", role="user", jti="j-1", iat=int(time.time()), ttl=900
    )
    return token


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def rows(database: Database) -> list[Any]:
    async with database.connect() as conn:
        return list(await conn.execute(select(StoredKey.__table__)))


async def test_without_rotation_the_secret_signs_and_nothing_is_stored(
    database: Database,
) -> None:
    ring = ring_of(database)
    await ring.start()
    try:
        token = issue(codec_of(ring))
        assert kid_of(token) == base_kid(SECRET)
        jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)  # the raw secret
        assert await rows(database) == []
        assert ring.published.body == b'{"keys":[]}'
        [info] = await ring.describe()
        assert (info.kid, info.state, info.source) == (
            base_kid(SECRET),
            "active",
            "MARIA_SECRET_KEY",
        )
    finally:
        await ring.close()


async def test_rotation_signs_after_the_delay_and_old_tokens_keep_verifying(
    database: Database,
) -> None:
    ring = ring_of(database, activation_delay=0.5)
    codec = codec_of(ring)
    await ring.start()
    try:
        before = issue(codec)
        info = await ring.rotate()
        assert info.state == "next" and info.alg == HS256
        assert kid_of(issue(codec)) == base_kid(SECRET)  # not yet: others may not know it

        async def new_key_signs() -> bool:
            return kid_of(issue(codec)) == info.kid

        await converge("the new key signs", new_key_signs, within=5)
        assert codec.decode(before).sub == "u-1"  # signed before the rotation
        assert codec.decode(issue(codec)).sub == "u-1"
        states = {i.kid: i.state for i in await ring.describe()}
        assert states == {base_kid(SECRET): "accepted", info.kid: "active"}
        # The new secret is sealed: its row holds neither it nor MARIA_SECRET_KEY.
        [row] = await rows(database)
        assert row.alg == HS256 and SECRET not in row.secret and len(row.secret) == 1 + 12 + 48
    finally:
        await ring.close()


async def test_another_instance_sees_a_rotation_by_polling(database: Database) -> None:
    a = ring_of(database, refresh_every=0.1)
    b = ring_of(database, refresh_every=0.1)
    await a.start()
    await b.start()
    try:
        info = await a.rotate()

        async def b_accepts() -> bool:
            return info.kid in b.current.by_kid

        await converge("instance B knows the new key", b_accepts, within=5)
        await asyncio.sleep(0.4)
        token = issue(codec_of(a))
        assert kid_of(token) == info.kid
        assert codec_of(b).decode(token).sub == "u-1"
    finally:
        await a.close()
        await b.close()


async def test_retiring_the_active_or_next_key_is_refused(database: Database) -> None:
    ring = ring_of(database, activation_delay=60)
    with pytest.raises(KeyProblem, match="active"):
        await ring.retire(base_kid(SECRET))
    info = await ring.rotate()
    for kid in (base_kid(SECRET), info.kid):  # the one signing; the one about to
        with pytest.raises(KeyProblem, match="active"):
            await ring.retire(kid)
        with pytest.raises(KeyProblem, match="active"):
            await ring.retire(kid, immediately=True)
    with pytest.raises(KeyProblem, match="no signing key"):
        await ring.retire("no-such-key")


async def test_retirement_waits_for_the_last_token_unless_now(database: Database) -> None:
    ring = ring_of(database, activation_delay=0)
    codec = codec_of(ring)
    await ring.refresh()
    old = issue(codec)
    new = await ring.rotate()
    assert new.state == "active"
    scheduled = await ring.retire(base_kid(SECRET))
    assert scheduled.state == "retiring" and scheduled.retired_at is not None
    assert new.activates_at is not None
    assert scheduled.retired_at.timestamp() == pytest.approx(
        new.activates_at.timestamp() + LIFETIME, abs=1
    )
    assert codec.decode(old).sub == "u-1"  # its tokens may still be valid: accepted
    done = await ring.retire(base_kid(SECRET), immediately=True)
    assert done.state == "retired"
    with pytest.raises(InvalidToken):
        codec.decode(old)
    with pytest.raises(KeyProblem, match="already retired"):
        await ring.retire(base_kid(SECRET))
    # A token without kid was read as MARIA_SECRET_KEY's: no longer.
    assert ring.current.default is None
    # Another instance (a fresh ring) agrees from the table alone.
    other = ring_of(database)
    await other.refresh()
    with pytest.raises(InvalidToken):
        codec_of(other).decode(old)
    assert codec_of(other).decode(issue(codec)).sub == "u-1"


@pytest.mark.parametrize("alg", [EDDSA, ES256])
async def test_the_first_asymmetric_instance_makes_the_first_key(
    database: Database, alg: str
) -> None:
    rings = [ring_of(database, alg) for _ in range(3)]
    await asyncio.gather(*(r.start() for r in rings))  # at once: one key wins
    try:
        for r in rings:
            await r.refresh()
        kids = {kid_of(issue(codec_of(r))) for r in rings}
        assert len(kids) == 1
        [kid] = kids
        assert base_kid(SECRET) not in rings[0].current.by_kid  # HS256 is not accepted
        token = issue(codec_of(rings[0]))
        assert codec_of(rings[2]).decode(token).sub == "u-1"
        published = rings[1].published
        assert kid.encode() in published.body
        client_key = jwt.PyJWKSet.from_json(published.body.decode())[kid]
        jwt.decode(token, client_key.key, algorithms=[alg], audience=AUDIENCE)
    finally:
        for r in rings:
            await r.close()


async def test_asymmetric_rotation_publishes_before_signing(database: Database) -> None:
    ring = ring_of(database, EDDSA, activation_delay=60)
    await ring.start()
    try:
        first = kid_of(issue(codec_of(ring)))
        info = await ring.rotate()
        body = ring.published.body.decode()
        assert first in body and info.kid in body  # published now, signing in a minute
        assert kid_of(issue(codec_of(ring))) == first
        retired_first = ring_of(database, EDDSA)
        await retired_first.refresh()
        with pytest.raises(KeyProblem):
            await retired_first.retire(first)  # still the signing key
    finally:
        await ring.close()


async def test_keys_of_another_secret_are_ignored(database: Database) -> None:
    mine = ring_of(database, EDDSA)
    await mine.start()
    await mine.close()
    theirs = ring_of(database, EDDSA, secret=SECRET + b"-other")
    await theirs.start()  # cannot open ours: makes its own
    await theirs.close()
    own_kid = kid_of(issue(codec_of(mine)))
    assert own_kid not in theirs.current.by_kid
    assert {i.state for i in await theirs.describe() if i.kid == own_kid} == {"unreadable"}


async def test_an_unreachable_database_keeps_the_secret_signing(tmp_path: Any) -> None:
    """HS256 needs no table to sign and verify; unknown kids answer 503 meanwhile."""
    database = open_database("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    ring = ring_of(database, refresh_every=0.05)
    try:
        await ring.start()
        token = issue(codec_of(ring))
        assert codec_of(ring).decode(token).sub == "u-1"
        assert not ring.current.loaded
    finally:
        await ring.close()
        await database.close()


async def test_the_table_never_holds_a_secret_in_clear(database: Database) -> None:
    ring = ring_of(database, ES256)
    await ring.start()
    await ring.rotate()
    await ring.close()
    async with database.connect() as conn:
        dump = str(list(await conn.execute(text("SELECT * FROM signing_keys"))))
    assert SECRET.decode() not in dump
    for key in ring.current.by_kid.values():
        private = key._private.private_numbers().private_value.to_bytes(32, "big")  # type: ignore[attr-defined]
        assert private.hex() not in dump and repr(private)[2:-1] not in dump


@pytest.mark.parametrize("alg", [HS256, EDDSA])
async def test_published_keys_wait_for_the_jwks_caches(database: Database, alg: str) -> None:
    """EdDSA/ES256: a rotated key signs only after the JWK Set's max-age (plus the instances'
    delay), unless urgent; HS256 publishes nothing and waits for the instances only."""
    ring = ring_of(database, alg, activation_delay=5, jwks_max_age=300)
    await ring.start()
    try:
        for urgent, ahead in ((False, 305 if alg == EDDSA else 5), (True, 5)):
            info = await ring.rotate(urgent=urgent)
            assert info.activates_at is not None and info.created_at is not None
            delay = (info.activates_at - info.created_at).total_seconds()
            assert delay == pytest.approx(ahead, abs=0.01), (urgent, delay)
    finally:
        await ring.close()
