"""Production's path, for real: nginx with the template shipped in ``deploy/`` in front of two
``maria serve`` processes sharing Postgres and Redis, started with the commands and settings
of ``deploy/compose.yaml`` (only the addresses are loopback ones).

Clients connect from addresses of their own (127.0.0.5 and up) so that the address nginx
sees differs from nginx's own (127.0.0.1, the one trusted proxy): what Maria believes can be
told apart from what a client claims.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD, TEST_SECRET, assert_error, bearer
from tests.support.deploy import compose, dockerfile_stages, service_env
from tests.support.nginx import Nginx
from tests.support.rooms import Peer
from tests.support.servers import MARIA, Server, converge, maria_env
from tests.support.services import flushed_redis, fresh_postgres

ME = "/api/v1/users/me"
AUTH = "/api/v1/auth"
# What compose.yaml sets that only makes sense on its network: replaced by loopback values.
ADDRESSES = {"MARIA_DATABASE_URL", "MARIA_REDIS_URL", "MARIA_TRUSTED_PROXIES", "MARIA_SECRET_KEY"}


def serve_args(command: list[str]) -> tuple[str, ...]:
    """A compose ``maria serve`` command without its host and port (the test picks those)."""
    assert command[:2] == ["maria", "serve"], command
    args, rest = [], iter(command[2:])
    for arg in rest:
        if arg in ("--host", "--port"):
            next(rest)
        else:
            args.append(arg)
    return tuple(args)


@dataclass
class Fleet:
    nginx: Nginx
    a: Server
    b: Server

    def instances(self) -> list[Server]:
        return [self.a, self.b]


def start_fleet(stack: ExitStack, tmp: Path) -> Fleet:
    """Postgres (a fresh database), Redis, the migration, two instances and nginx, as
    compose.yaml starts them."""
    redis_url = flushed_redis()
    database = stack.enter_context(fresh_postgres("maria_fleet"))
    spec = compose({"MARIA_SECRET_KEY": TEST_SECRET, "POSTGRES_PASSWORD": "unused-here"})
    services = spec["services"]
    assert service_env(services["maria-b"]) == service_env(services["maria-a"])
    assert services["maria-b"]["command"] == services["maria-a"]["command"]
    image_env = dockerfile_stages()[-1].env()  # what the image sets, under compose's
    image_env.pop("PATH")
    env = {**image_env, **service_env(services["maria-a"])}
    assert set(env) >= ADDRESSES, "compose.yaml no longer sets what the test replaces"
    env.update(
        MARIA_DATABASE_URL=database,
        MARIA_REDIS_URL=redis_url,
        MARIA_TRUSTED_PROXIES="127.0.0.1",  # nginx, as it connects to the instances
        MARIA_SECRET_KEY=TEST_SECRET,
        MARIA_DATA_DIR=str(tmp / "data"),
    )
    env = maria_env(**env)
    migrate = services["migrate"]["command"]
    assert migrate[0] == "maria"
    done = subprocess.run(
        [str(MARIA), *migrate[1:]], env=env, cwd=tmp, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    servers = []
    for name in ("maria-a", "maria-b"):
        server = Server(name, env, tmp, serve_args(services[name]["command"]))
        stack.callback(server.stop)
        servers.append(server.start())
    nginx = Nginx(tmp / "nginx", (f"127.0.0.1:{servers[0].port}", f"127.0.0.1:{servers[1].port}"))
    stack.callback(nginx.stop)
    nginx.start()
    return Fleet(nginx, servers[0], servers[1])


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    with ExitStack() as stack:
        yield start_fleet(stack, tmp_path_factory.mktemp("fleet"))


@pytest.fixture
def own_fleet(tmp_path: Path) -> Iterator[Fleet]:
    """A fleet of the test's own (it stops one of its instances)."""
    with ExitStack() as stack:
        yield start_fleet(stack, tmp_path)


@asynccontextmanager
async def client_at(
    base: str, address: str = "127.0.0.5", **kwargs: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client connecting from ``address`` (a loopback address of its own)."""
    transport = httpx.AsyncHTTPTransport(local_address=address, verify=False)
    async with httpx.AsyncClient(
        base_url=base, transport=transport, timeout=30, **kwargs
    ) as client:
        yield client


async def sign_up(client: httpx.AsyncClient, name: str = "Fleet") -> dict[str, Any]:
    email = f"{name.lower()}-{secrets.token_hex(4)}@example.com"
    response = await client.post(
        f"{AUTH}/register", json={"email": email, "password": PASSWORD, "display_name": name}
    )
    assert response.status_code == 201, response.text
    session: dict[str, Any] = response.json()
    session["email"] = email
    return session


def logged_ids(server: Server) -> set[str | None]:
    ids = set()
    for line in server.log().splitlines():
        if line.startswith("{"):
            ids.add(json.loads(line).get("request_id"))
    return ids


# -- through nginx --------------------------------------------------------------------


async def test_requests_through_nginx_reach_both_instances_with_their_ids(fleet: Fleet) -> None:
    async with client_at(fleet.nginx.url) as client:
        session = await sign_up(client)
        ids = [f"spread-{secrets.token_hex(4)}-{i}" for i in range(10)]
        for request_id in ids:
            response = await client.get(ME, headers={**bearer(session), "X-Request-ID": request_id})
            assert response.status_code == 200
            assert response.headers["x-request-id"] == request_id
        # A request id of a shape Maria would not keep: nginx replaces it with its own,
        # and Maria keeps that one.
        odd = await client.get("/healthz", headers={"X-Request-ID": "two words"})
        assert odd.headers["x-request-id"] != "two words" and len(odd.headers["x-request-id"]) == 32

    async def all_logged() -> bool:  # lines are written once the answers have gone out
        lines = fleet.nginx.access_lines()
        nginx_ids = {json.loads(x)["request_id"] for x in lines if x.startswith("{")}
        return set(ids) <= (logged_ids(fleet.a) | logged_ids(fleet.b)) & nginx_ids

    await converge("every request logged by nginx and an instance", all_logged, within=10)
    on_a, on_b = logged_ids(fleet.a), logged_ids(fleet.b)
    assert set(ids) & on_a and set(ids) & on_b, "nginx sent every request to one instance"
    nginx_lines = [json.loads(x) for x in fleet.nginx.access_lines() if x.startswith("{")]
    upstreams = {x["upstream"] for x in nginx_lines if x["request_id"] in ids}
    assert upstreams == {f"127.0.0.1:{fleet.a.port}", f"127.0.0.1:{fleet.b.port}"}


async def test_a_logout_through_nginx_is_seen_by_both_instances(fleet: Fleet) -> None:
    async with client_at(fleet.nginx.url) as client:
        session = await sign_up(client)
        for server in fleet.instances():
            direct = await client.get(f"{server.url}{ME}", headers=bearer(session))
            assert direct.status_code == 200
        assert (await client.post(f"{AUTH}/logout", headers=bearer(session))).status_code == 204
        for server in fleet.instances():

            async def refused(server: Server = server) -> bool:
                r = await client.get(f"{server.url}{ME}", headers=bearer(session))
                return r.status_code == 401

            await converge(f"the logout seen by {server.name}", refused, within=10)


async def test_client_addresses_come_from_nginx_and_cannot_be_forged(fleet: Fleet) -> None:
    forged = {"X-Forwarded-For": "198.51.100.7", "X-Real-IP": "198.51.100.7"}
    async with client_at(fleet.nginx.url, "127.0.0.5") as client:
        session = await sign_up(client)
        login = await client.post(
            f"{AUTH}/login",
            json={"email": session["email"], "password": PASSWORD},
            headers={**forged, "X-Request-ID": "forged-login"},
        )
        assert login.status_code == 200
        sessions = (await client.get(f"{AUTH}/sessions", headers=bearer(login.json()))).json()
        assert {s["ip"] for s in sessions} == {"127.0.0.5"}
        audit = (await client.get(f"{ME}/audit", headers=bearer(login.json()))).json()
        assert {e["ip"] for e in audit["items"]} == {"127.0.0.5"}

    def logged() -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for server in fleet.instances()
            for line in server.log().splitlines()
            if '"forged-login"' in line
        ]

    async def written() -> bool:
        return bool(logged())

    await converge("the login's access line", written, within=10)
    assert [x["client"] for x in logged()] == ["127.0.0.5"]
    # Straight to an instance (not through the trusted proxy), the header counts for nothing.
    async with client_at(fleet.a.url, "127.0.0.5") as direct:
        session = await sign_up(direct, "Direct")
        login = await direct.post(
            f"{AUTH}/login", json={"email": session["email"], "password": PASSWORD}, headers=forged
        )
        sessions = (await direct.get(f"{AUTH}/sessions", headers=bearer(login.json()))).json()
        assert {s["ip"] for s in sessions} == {"127.0.0.5"}


async def test_rate_limits_count_the_real_address_on_both_instances(fleet: Fleet) -> None:
    async with client_at(fleet.nginx.url, "127.0.0.6") as client:
        victim = await sign_up(client, "Victim")
        client.cookies.clear()  # a stranger: the (account, address) pair's limit applies
        wrong = {"email": victim["email"], "password": "not " + PASSWORD}
        statuses = []
        for i in range(6):  # over both instances (round robin), each with a new forged address
            response = await client.post(
                f"{AUTH}/login", json=wrong, headers={"X-Forwarded-For": f"203.0.113.{i + 1}"}
            )
            statuses.append(response.status_code)
        assert statuses == [401] * 5 + [429]
    async with client_at(fleet.nginx.url, "127.0.0.7") as other:
        assert_error(await other.post(f"{AUTH}/login", json=wrong), 401, "invalid_credentials")


def secure_flags(response: httpx.Response) -> list[bool]:
    cookies = response.headers.get_list("set-cookie")
    assert cookies, "no cookies set"
    return ["secure" in [part.strip().lower() for part in c.split(";")] for c in cookies]


async def test_secure_cookies_follow_the_scheme_nginx_was_reached_by(fleet: Fleet) -> None:
    async with client_at(fleet.nginx.url) as client:
        session = await sign_up(client)
    body = {"email": session["email"], "password": PASSWORD}
    https = "X-Forwarded-Proto"
    async with client_at(fleet.nginx.https_url) as tls:
        over_tls = await tls.post(f"{AUTH}/login", json=body)
        assert over_tls.status_code == 200
        assert all(secure_flags(over_tls)), over_tls.headers.get_list("set-cookie")
    async with client_at(fleet.nginx.url) as plain:
        for headers in ({}, {https: "https"}):  # a client's own claim is overwritten by nginx
            response = await plain.post(f"{AUTH}/login", json=body, headers=headers)
            assert response.status_code == 200
            assert not any(secure_flags(response)), response.headers.get_list("set-cookie")
    async with client_at(fleet.a.url) as direct:  # not through the trusted proxy
        response = await direct.post(f"{AUTH}/login", json=body, headers={https: "https"})
        assert not any(secure_flags(response))


# -- rooms through nginx --------------------------------------------------------------


def open_sockets(server: Server) -> float:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith("maria_websockets_open "):
            return float(line.split()[1])
    raise AssertionError("no maria_websockets_open")


async def join_on(
    fleet: Fleet, room_id: str, token: str, address: str, avoid: Server | None = None
) -> tuple[Peer, Server]:
    """A member's socket through nginx; which instance it reached (by their socket gauges).
    With ``avoid``, reconnect until it lands on the other instance."""
    for _ in range(8):
        before = {s.name: open_sockets(s) for s in fleet.instances()}
        peer = await Peer.open(
            fleet.nginx.url,
            room_id,
            token,
            local_addr=(address, 0),
            additional_headers={"X-Request-ID": f"ws-{secrets.token_hex(4)}"},
        )
        landed = [s for s in fleet.instances() if open_sockets(s) > before[s.name]]
        assert len(landed) == 1, before
        if landed[0] is not avoid:
            return peer, landed[0]
        await peer.close()
        await asyncio.sleep(0.1)
    raise AssertionError("every socket landed on the same instance")


async def acked(peer: Peer, text: str) -> dict[str, Any]:
    """Send a chat message and wait for its echo: it is stored."""
    await peer.send({"type": "chat", "text": text})
    return await peer.expect("chat", text=text)


async def test_a_room_spans_both_instances_through_nginx(fleet: Fleet) -> None:
    async with client_at(fleet.nginx.url) as client:
        ann, bob = await sign_up(client, "Ann"), await sign_up(client, "Bob")
        room = (
            await client.post("/api/v1/rooms", json={"movie_id": 301}, headers=bearer(ann))
        ).json()
    a, on_a = await join_on(fleet, room["id"], ann["access_token"], "127.0.0.5")
    b, on_b = await join_on(fleet, room["id"], bob["access_token"], "127.0.0.6", avoid=on_a)
    assert on_a is not on_b
    try:
        await a.expect("presence", event="join", user_id=bob["user"]["id"])
        await acked(a, "from Ann")
        assert (await b.expect("chat", text="from Ann"))["user_id"] == ann["user"]["id"]
        await acked(b, "from Bob")
        await a.expect("chat", text="from Bob")
    finally:
        await a.close()
        await b.close()


# -- one instance stopped -------------------------------------------------------------


async def test_members_of_a_stopped_instance_reconnect_and_lose_no_stored_message(
    own_fleet: Fleet,
) -> None:
    fleet = own_fleet
    async with client_at(fleet.nginx.url) as client:
        ann, bob = await sign_up(client, "Ann"), await sign_up(client, "Bob")
        room = (
            await client.post("/api/v1/rooms", json={"movie_id": 302}, headers=bearer(ann))
        ).json()
        a, doomed = await join_on(fleet, room["id"], ann["access_token"], "127.0.0.5")
        b, survivor = await join_on(
            fleet, room["id"], bob["access_token"], "127.0.0.6", avoid=doomed
        )
        sent = []
        for i in range(3):
            sent.append((await acked(a, f"ann {i}"))["id"])
            sent.append((await acked(b, f"bob {i}"))["id"])
        await asyncio.to_thread(doomed.stop)  # SIGTERM (the client keeps reading meanwhile)
        assert "Application shutdown complete" in doomed.log()  # a graceful stop
        code, _ = await a.closed()
        assert code == 1012  # service restart: reconnect
        for i in range(3, 5):  # the room goes on on the survivor meanwhile
            sent.append((await acked(b, f"bob {i}"))["id"])
        again = await Peer.open(
            fleet.nginx.url, room["id"], ann["access_token"], local_addr=("127.0.0.5", 0)
        )
        assert open_sockets(survivor) == 2
        history = [m["id"] for m in again.welcome["history"]]
        assert history == sent, "the welcome after reconnecting misses stored messages"
        sent.append((await acked(again, "ann is back"))["id"])
        await b.expect("chat", text="ann is back")
        page = await client.get(f"/api/v1/rooms/{room['id']}/messages", headers=bearer(bob))
        assert [m["id"] for m in page.json()] == sent
        await again.close()
        await b.close()
    assert "Traceback" not in survivor.log()
    assert "Traceback" not in doomed.log()
