"""Rotation across real processes: two ``maria serve`` on one Postgres, keys changed with the
``maria keys`` command (a third process), with HS256 and with EdDSA.

A rotation reaches both instances before its key signs; tokens of the old key keep working
on both; retiring the key that signs is refused; retiring the old key waits for its last
token unless ``--now``, which every instance then honours within seconds; an unknown kid
is refused. With EdDSA, PyJWT's ``PyJWKClient`` and Node's ``jose`` follow the rotation
from the JWK Set alone.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from maria.keys.jws import HS256, HmacKey, base_kid
from maria.keys.material import make_key, new_kid, new_secret
from tests.support.api import ME, PASSWORD, TEST_SECRET, assert_error, register
from tests.support.node import jose_verify
from tests.support.rooms import server_env
from tests.support.servers import MARIA, Server, converge, started
from tests.support.services import fresh_postgres

JWKS = "/.well-known/jwks.json"
WITHIN = 20.0  # the bound of every wait for a rotation to show (2 s polls, 5 s activation)


@dataclass
class Cluster:
    alg: str
    a: Server
    b: Server
    env: dict[str, str]
    cwd: Path

    def keys(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(MARIA), "keys", *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def rotate(self) -> str:
        done = self.keys("rotate")
        assert done.returncode == 0, done.stderr
        match = re.fullmatch(rf"new {self.alg} key (\S+): signs from .* UTC\n", done.stdout)
        assert match, done.stdout
        return match.group(1)

    def states(self) -> dict[str, str]:
        done = self.keys("list")
        assert done.returncode == 0, done.stderr
        return {line.split()[0]: line.split()[2] for line in done.stdout.splitlines()[1:]}


@pytest.fixture(scope="module", params=[HS256, "EdDSA"])
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    alg: str = request.param
    tmp = tmp_path_factory.mktemp(f"keys-{alg}")
    with ExitStack() as stack:
        url = stack.enter_context(fresh_postgres("maria_keys"))
        # JWK Set caches of a second: a rotated EdDSA key signs 1 + 5 s after it is made.
        env = server_env(
            tmp / "data", MARIA_DATABASE_URL=url, MARIA_JWT_ALG=alg, MARIA_JWKS_MAX_AGE="1"
        )
        a = started(stack, f"keys-{alg}-a", env, tmp)
        b = started(stack, f"keys-{alg}-b", server_env(tmp / "data-b", **_shared(env)), tmp)
        yield Cluster(alg, a, b, env, tmp)


def _shared(env: dict[str, str]) -> dict[str, str]:
    return {k: env[k] for k in ("MARIA_DATABASE_URL", "MARIA_JWT_ALG", "MARIA_JWKS_MAX_AGE")}


@pytest.fixture
async def clients(cluster: Cluster) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with (
        httpx.AsyncClient(base_url=cluster.a.url, timeout=30) as a,
        httpx.AsyncClient(base_url=cluster.b.url, timeout=30) as b,
    ):
        yield a, b


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def login(client: httpx.AsyncClient, email: str) -> str:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(ME, headers={"Authorization": f"Bearer {token}"})


async def signs_with(client: httpx.AsyncClient, email: str, kid: str) -> None:
    async def probe() -> bool:
        if kid_of(await login(client, email)) == kid:
            return True
        await asyncio.sleep(0.2)
        return False

    await converge(f"{client.base_url} signs with the new key", probe, within=WITHIN)


async def rotated(cluster: Cluster, clients: tuple[httpx.AsyncClient, ...], email: str) -> str:
    """Rotate, and wait until both instances sign with the new key."""
    kid = cluster.rotate()
    for client in clients:
        await signs_with(client, email, kid)
    return kid


async def test_a_rotation_reaches_every_instance(
    cluster: Cluster, clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, b = clients
    session = await register(a)
    email, old = session["user"]["email"], session["access_token"]
    if cluster.alg == HS256:
        assert kid_of(old) == base_kid(TEST_SECRET.encode())  # MARIA_SECRET_KEY's own
    assert (await me(b, old)).status_code == 200
    new_kid_ = cluster.rotate()

    if cluster.alg != HS256:  # published by both before either signs with it

        async def published() -> bool:
            bodies = [(await c.get(JWKS)).text for c in clients]
            return all(new_kid_ in body for body in bodies)

        await converge("both publish the new key", published, within=WITHIN)

    for client in clients:
        await signs_with(client, email, new_kid_)
    from_a, from_b = await login(a, email), await login(b, email)
    assert kid_of(from_a) == kid_of(from_b) == new_kid_
    for client in clients:  # each instance takes the other's new tokens, and the old one
        for token in (from_a, from_b, old):
            assert (await me(client, token)).status_code == 200
    assert cluster.states()[new_kid_] == "active"
    assert cluster.states()[kid_of(old)] == "accepted"


async def test_the_signing_key_cannot_be_retired(cluster: Cluster) -> None:
    active = next(kid for kid, state in cluster.states().items() if state == "active")
    for args in ((active,), (active, "--now")):
        done = cluster.keys("retire", *args)
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1 and "active signing key" in done.stderr
    unknown = cluster.keys("retire", "no-such-key")
    assert unknown.returncode == 1 and "no signing key" in unknown.stderr
    usage = cluster.keys("retire")
    assert usage.returncode == 2 and "kid" in usage.stderr
    assert cluster.states()[active] == "active"


async def test_an_unknown_kid_is_refused_everywhere(
    cluster: Cluster, clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, _ = clients
    token = (await register(a))["access_token"]
    header, payload, _ = token.split(".")
    # Signed with a key of the right algorithm that Maria never made.
    stranger = make_key(new_kid(), cluster.alg, new_secret(cluster.alg))
    forged_header = stranger.header_segment
    forged = f"{forged_header}.{payload}.{stranger.sign(f'{forged_header}.{payload}')}"
    # And with MARIA_SECRET_KEY itself under a kid it does not have.
    impostor = HmacKey("AAAAAAAAAAAAAAAA", TEST_SECRET.encode())
    signing_input = f"{impostor.header_segment}.{payload}"
    hs = f"{signing_input}.{impostor.sign(signing_input)}"
    for client in clients:
        assert (await me(client, token)).status_code == 200
        for bad in (forged, hs):
            assert_error(await me(client, bad), 401, "invalid_token")


async def test_retiring_now_refuses_the_old_tokens_everywhere(
    cluster: Cluster, clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, b = clients
    session = await register(b)
    email, old = session["user"]["email"], session["access_token"]
    old_kid = kid_of(old)
    await rotated(cluster, clients, email)
    later = cluster.keys("retire", old_kid)  # its tokens may live 15 more minutes: scheduled
    assert later.returncode == 0 and later.stdout.startswith(f"retired {old_kid}: refused from")
    assert cluster.states()[old_kid] == "retiring"
    for client in clients:
        assert (await me(client, old)).status_code == 200
    now = cluster.keys("retire", old_kid, "--now")
    assert now.returncode == 0, now.stderr

    async def refused_everywhere() -> bool:
        answers = [(await me(c, old)).status_code for c in clients]
        if answers == [401, 401]:
            return True
        await asyncio.sleep(0.1)
        return False

    await converge("both refuse the retired key's tokens", refused_everywhere, within=WITHIN)
    for client in clients:
        assert_error(await me(client, old), 401, "invalid_token")
        assert (await me(client, await login(client, email))).status_code == 200
        if cluster.alg != HS256:
            assert old_kid not in (await client.get(JWKS)).text
    assert cluster.states()[old_kid] == "retired"


async def test_jwks_consumers_follow_a_rotation(
    cluster: Cluster, clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, b = clients
    session = await register(a)
    email, before = session["user"]["email"], session["access_token"]
    if cluster.alg == HS256:  # a shared secret is never published, rotated or not
        await rotated(cluster, clients, email)
        for client in clients:
            assert (await client.get(JWKS)).json() == {"keys": []}
        return
    url = f"{cluster.b.url}{JWKS}"
    # A consumer that caches the set as long as Cache-Control allows (a second here).
    pyjwk = jwt.PyJWKClient(url, cache_keys=True, lifespan=1)

    def verified(token: str) -> dict[str, Any]:
        key = pyjwk.get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token, key.key, algorithms=[cluster.alg], audience="kinoway", issuer="maria"
        )
        return claims

    assert verified(before)["sub"] == session["user"]["id"]
    kid = await rotated(cluster, clients, email)
    after = await login(a, email)
    assert kid_of(after) == kid != kid_of(before)
    # The key was published before it signed: the consumer's next fetch had it.
    assert verified(after)["sub"] == verified(before)["sub"]
    verdicts = jose_verify(url, cluster.alg, [before, after])
    assert [v["ok"] for v in verdicts] == [True, True], verdicts
    assert [v["kid"] for v in verdicts] == [kid_of(before), kid]
