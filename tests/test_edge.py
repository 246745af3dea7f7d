"""The edge of the HTTP layer: CORS, forwarded headers and the size of request heads.

Forwarded headers and the head cap are tested against real ``maria serve`` processes too:
they are decided where the server meets the socket.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from maria.config import ConfigError, load_settings
from tests.support.api import PASSWORD, assert_error, bearer, register
from tests.support.app import app_and_client, make_settings
from tests.support.servers import CHEAP_HASHING, Server, maria_env, started
from tests.test_cli import maria

ORIGIN = "http://localhost:3000"

# -- CORS -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "*",
        "https://a.example,*",
        "https://*.example",
        "https://a.example/",
        "https://a.example/app",
        "a.example",
        "ftp://a.example",
        "https://user@a.example",
        "https://a.example?x=1",
    ],
)
def test_cors_origins_must_be_exact(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("MARIA_CORS_ORIGINS", raw)
    with pytest.raises(ConfigError, match="MARIA_CORS_ORIGINS"):
        load_settings()


def test_serve_refuses_a_wildcard_origin_in_one_line(tmp_path: Path) -> None:
    env = maria_env(MARIA_DATA_DIR=str(tmp_path / "data"), MARIA_CORS_ORIGINS="*")
    result = maria("serve", "--port", "1", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "MARIA_CORS_ORIGINS" in lines[0] and "'*' is refused" in lines[0]


async def test_cors_answers_exact_origins_only_and_exposes_what_scripts_need(
    tmp_path: Path, sqlite_template: Path
) -> None:
    import shutil

    shutil.copy(sqlite_template, tmp_path / "maria.db")
    url = f"sqlite+aiosqlite:///{tmp_path / 'maria.db'}"
    settings = make_settings(url, tmp_path, cors_origins=[ORIGIN])
    async with app_and_client(settings) as (_, client):
        session = await register(client)
        me = await client.get(
            "/api/v1/users/me/lists/favorites/items",
            headers={**bearer(session), "Origin": ORIGIN},
        )
        assert me.status_code == 200
        assert me.headers["access-control-allow-origin"] == ORIGIN
        assert me.headers["access-control-allow-credentials"] == "true"
        exposed = {
            h.strip().lower() for h in me.headers["access-control-expose-headers"].split(",")
        }
        assert {"retry-after", "etag", "x-request-id"} <= exposed
        assert "etag" in me.headers
        assert me.headers["vary"].lower().count("origin") == 1

        other = await client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        assert "origin" in other.headers["vary"].lower()
        same = await client.get("/healthz")  # no Origin: the answer still varies by it
        assert "origin" in same.headers["vary"].lower()

        preflight = await client.options(
            "/api/v1/auth/login",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 400
        assert "access-control-allow-origin" not in preflight.headers


# -- forwarded headers ----------------------------------------------------------------


@pytest.mark.parametrize("raw", ["localhost", "10.0.0.0/33", "*", "1.2.3.4.5"])
def test_trusted_proxies_must_be_addresses_or_networks(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("MARIA_TRUSTED_PROXIES", raw)
    with pytest.raises(ConfigError, match="MARIA_TRUSTED_PROXIES"):
        load_settings()


def test_trusted_proxies_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().trusted_proxies == []  # none by default, not even loopback
    monkeypatch.setenv("MARIA_TRUSTED_PROXIES", " 10.0.0.0/8, 127.0.0.1 ,::1")
    assert load_settings().trusted_proxies == ["10.0.0.0/8", "127.0.0.1", "::1"]


async def session_ips(client: httpx.AsyncClient, session: dict[str, Any]) -> list[str | None]:
    response = await client.get("/api/v1/auth/sessions", headers=bearer(session))
    assert response.status_code == 200, response.text
    return [s["ip"] for s in response.json()]


@pytest.fixture
def sqlite_settings(tmp_path: Path, sqlite_template: Path) -> Iterator[Any]:
    import shutil

    shutil.copy(sqlite_template, tmp_path / "maria.db")
    url = f"sqlite+aiosqlite:///{tmp_path / 'maria.db'}"
    yield lambda **kw: make_settings(url, tmp_path, **kw)


async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    sqlite_settings: Any,
) -> None:
    forged = {"X-Forwarded-For": "198.51.100.23"}
    async with app_and_client(sqlite_settings(), ("127.0.0.1", 40000)) as (_, client):
        session = await register(client, headers=forged)
        assert await session_ips(client, session) == ["127.0.0.1"]


async def test_a_trusted_proxy_gives_the_right_most_untrusted_hop(sqlite_settings: Any) -> None:
    settings = sqlite_settings(trusted_proxies=["10.0.0.0/8"])
    async with app_and_client(settings, ("10.1.2.3", 40000)) as (_, client):
        # The client sent its own header; the proxies appended what they saw.
        hops = {"X-Forwarded-For": "203.0.113.66, 198.51.100.7, 10.9.9.9"}
        session = await register(client, headers=hops)
        assert await session_ips(client, session) == ["198.51.100.7"]
    async with app_and_client(settings, ("192.0.2.50", 40000)) as (_, client):
        session = await register(client, headers=hops)  # not a proxy: its header is noise
        assert await session_ips(client, session) == ["192.0.2.50"]


def test_serve_believes_no_forwarded_header_by_default(tmp_path: Path) -> None:
    """The issue's attack: 25 sign-ups from one local client, each with a new forged
    address, against the 20-per-address limit."""
    env = maria_env(MARIA_DATA_DIR=str(tmp_path / "data"), **CHEAP_HASHING)
    with ExitStack() as stack:
        server = started(stack, "edge", env, tmp_path)
        statuses = [signup(server, i, {"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(25)]
    assert 429 in statuses, statuses
    assert statuses.index(429) == 20, statuses


def test_serve_with_a_trusted_proxy_counts_the_forwarded_address(tmp_path: Path) -> None:
    env = maria_env(
        MARIA_DATA_DIR=str(tmp_path / "data"), MARIA_TRUSTED_PROXIES="127.0.0.1", **CHEAP_HASHING
    )
    with ExitStack() as stack:
        server = started(stack, "edge", env, tmp_path)
        statuses = [signup(server, i, {"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(25)]
    assert set(statuses) == {201}, statuses


def signup(server: Server, i: int, headers: dict[str, str]) -> int:
    body = {
        "email": f"u{i}-{time.time_ns()}@example.com",
        "password": PASSWORD,
        "display_name": "U",
    }
    response = httpx.post(
        f"{server.url}/api/v1/auth/register", json=body, headers=headers, timeout=15
    )
    return response.status_code


# -- the size of request heads --------------------------------------------------------


@pytest.fixture(scope="module")
def edge_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("edge")
    env = maria_env(MARIA_DATA_DIR=str(tmp / "data"), **CHEAP_HASHING)
    with ExitStack() as stack:
        yield started(stack, "edge", env, tmp)


def raw_request(server: Server, head: bytes, send_at_most: int) -> bytes:
    """Send up to ``send_at_most`` bytes of ``head`` (as long as the server reads), then
    read the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sent = 0
        try:
            while sent < min(len(head), send_at_most):
                sent += sock.send(head[sent : sent + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: what it answered is what counts
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
        return answer


def test_a_huge_header_is_refused_before_it_is_read(edge_server: Server) -> None:
    huge = b"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"a" * (64 << 20)
    answer = raw_request(edge_server, huge + b"\r\n\r\n", send_at_most=len(huge) + 4)
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 431"), answer[:300]
    assert b'"code":"headers_too_large"' in rest
    # Still serving.
    assert httpx.get(f"{edge_server.url}/healthz", timeout=5).status_code == 200


def test_many_headers_adding_up_past_the_cap_are_refused(edge_server: Server) -> None:
    lines = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 100) for i in range(200))  # ~21 KiB
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n"
    answer = raw_request(edge_server, head, send_at_most=len(head))
    assert answer.startswith(b"HTTP/1.1 431"), answer[:300]


def test_heads_under_the_cap_are_served(edge_server: Server) -> None:
    lines = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 100) for i in range(100))  # ~11 KiB
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + lines + b"\r\n"
    answer = raw_request(edge_server, head, send_at_most=len(head))
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    # Keep-alive: two requests in one stream, each under the cap, both served.
    one = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n"
    two = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + lines + b"\r\n"
    answer = raw_request(edge_server, one + two, send_at_most=len(one + two))
    assert answer.count(b"HTTP/1.1 200") == 2, answer[:500]


def test_an_oversized_token_is_refused_as_a_token(edge_server: Server) -> None:
    token = "a" * (9 * 1024)  # within the head cap, over the token cap
    response = httpx.get(
        f"{edge_server.url}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert_error(response, 401, "invalid_token")
