"""The attack suite over HTTP: every forged, tampered, confused or malformed access token is
answered 401 with the contract's error body (never a 500, never a 200), by a real
``maria serve`` with each signing algorithm.

Requests are sent with ``http.client``, which passes header bytes as given (non-ASCII,
control characters, a megabyte), the way an attacker's client would. A token too big for the
16 KiB request head never reaches the verifier: the server answers 431 while the rest is
still on its way (and may reset the connection after that answer).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
from typing import Any
from urllib.parse import urlsplit

from tests.security.attacks import Attack, catalogue
from tests.security.conftest import Target
from tests.support.api import ME


def get(url: str, path: str, authorization: bytes) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.putrequest("GET", path)
        conn.putheader("Authorization", b"Bearer " + authorization)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


HEAD_BYTES = 16 * 1024  # maria serve's cap on the request line and headers (http/head.py)


def get_oversized(url: str, path: str, authorization: bytes) -> bytes:
    """Send a head over the cap as far as the server reads it; what it answered."""
    parts = urlsplit(url)
    head = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
    head += authorization + b"\r\nConnection: close\r\n\r\n"
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=30) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head)  # it may stop reading: its answer is already here
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
        return answer


def refusal_problem(
    attack: Attack, status: int, headers: dict[str, str], body: bytes
) -> str | None:
    """Why this answer is not the contract's 401 for ``attack``, or None."""
    if not attack.code:
        return None if status == 200 else f"baseline refused: {status} {body[:200]!r}"
    if status != 401:
        return f"{status} {body[:200]!r}"
    try:
        error = json.loads(body)
    except ValueError:
        return f"401 without a JSON body: {body[:200]!r}"
    if set(error) != {"error"} or error["error"].get("code") != attack.code:
        return f"401 with {error}"
    if not isinstance(error["error"].get("message"), str) or not error["error"]["message"]:
        return f"401 without a message: {error}"
    if "application/json" not in headers.get("content-type", ""):
        return f"401 with content-type {headers.get('content-type')}"
    return None


def attacks_for(target: Target) -> list[Attack]:
    session = target.register()
    return catalogue(target.alg, target.data_dir, session["access_token"], target.jwks())


def test_every_attack_is_refused_with_401(target: Target) -> None:
    attacks = attacks_for(target)
    assert len(attacks) > 100
    problems: dict[str, str] = {}
    for attack in attacks:
        raw = attack.token.encode("utf-8")
        if len(raw) > HEAD_BYTES:
            answer = get_oversized(target.url, ME, raw)
            if not answer.startswith(b"HTTP/1.1 431") or b"headers_too_large" not in answer:
                problems[attack.name] = f"over the head cap: {answer[:200]!r}"
            continue
        status, headers, body = get(target.url, ME, raw)
        if not attack.over_http:
            if status != 400:  # the HTTP parser's refusal, before any application code
                problems[attack.name] = f"{status} {body[:200]!r}"
            continue
        problem = refusal_problem(attack, status, headers, body)
        if problem is not None:
            problems[attack.name] = problem
    assert problems == {}
    assert get(target.url, "/healthz", b"x")[0] == 200  # and the server is still there


def test_a_refused_token_is_refused_on_every_api_path(target: Target) -> None:
    """Before routing: a path that needs no caller, a missing one, an admin one."""
    session = target.register()
    token = session["access_token"]
    tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    for path in (ME, "/api/v1/users/me/lists", "/api/v1/admin/users", "/api/v1/nothing-here"):
        status, headers, body = get(target.url, path, tampered.encode())
        assert refusal_problem(Attack("tampered", tampered), status, headers, body) is None, path
        status, _, _ = get(target.url, path, token.encode())
        assert status != 401, path  # the control: the real token passes this gate


def test_a_session_revoked_token_is_refused(target: Target) -> None:
    session = target.register()
    token = session["access_token"]
    assert get(target.url, ME, token.encode())[0] == 200
    target.logout(session)
    status, headers, body = get(target.url, ME, token.encode())
    assert refusal_problem(Attack("revoked", token), status, headers, body) is None


def test_the_server_logged_no_error(targets: dict[str, Target]) -> None:
    """After the rest of the suite (this module's tests run in file order): no 500s, no
    tracebacks in any server's log."""
    for target in targets.values():
        log: Any = target.server.log()
        assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-3000:]
