"""A real ``maria serve`` in production mode logs JSON lines only (uvicorn's own too), with
the request id on every line a request or socket causes, and never a secret: a full flow
(register, login, refresh, verification, reset, email code, room chat, metrics) and then a
scan of every line for every secret the flow used."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD, TEST_SECRET, bearer
from tests.support.mail import PUBLIC_URL, MailSink, code_of, link_query
from tests.support.rooms import Peer
from tests.support.servers import CHEAP_HASHING, Server, converge, maria_env, started
from tests.support.services import fresh_postgres

AUTH = "/api/v1/auth"
METRICS_TOKEN = "metrics-" + secrets.token_urlsafe(24)


@pytest.fixture
def sink() -> Iterator[MailSink]:
    server = MailSink().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def production(request: pytest.FixtureRequest, tmp_path: Path, sink: MailSink) -> Iterator[Server]:
    with ExitStack() as stack:
        extra = {}
        if request.param == "postgres":
            extra["MARIA_DATABASE_URL"] = stack.enter_context(fresh_postgres("maria_logs"))
        env = maria_env(
            MARIA_ENV="production",
            MARIA_SECRET_KEY=TEST_SECRET,
            MARIA_DATA_DIR=str(tmp_path / "data"),
            MARIA_SMTP_URL=sink.url,
            MARIA_PUBLIC_URL=PUBLIC_URL,
            MARIA_METRICS_TOKEN=METRICS_TOKEN,
            MARIA_ACCESS_LOG="true",
            MARIA_TRUSTED_PROXIES="127.0.0.1",  # Secure cookies follow the (plain) scheme
            **CHEAP_HASHING,
            **extra,
        )
        yield started(stack, "production", env, tmp_path)


def json_lines(server: Server) -> list[dict[str, Any]]:
    lines = [line for line in server.log().splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    return parsed


async def full_flow(base: str, sink: MailSink) -> tuple[set[str], dict[str, str]]:
    """Every way in and out, with request ids of our own; the secrets it used, and the
    request id of each step."""
    used: set[str] = {TEST_SECRET, METRICS_TOKEN}
    rids: dict[str, str] = {}

    def rid(step: str) -> dict[str, str]:
        rids[step] = f"flow-{step}-{secrets.token_hex(4)}"
        return {"X-Request-ID": rids[step]}

    email = f"flow-{secrets.token_hex(4)}@example.com"
    password, new_password, wrong = PASSWORD + " one", PASSWORD + " two", "wrong " + PASSWORD
    used |= {password, new_password, wrong}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        reg = await client.post(
            f"{AUTH}/register",
            json={"email": email, "password": password, "display_name": "Flow"},
            headers=rid("register"),
        )
        assert reg.status_code == 201, reg.text
        session = reg.json()
        used |= {session["access_token"], session["refresh_token"], session["device_token"]}
        used |= set(client.cookies.values())
        bad = await client.post(
            f"{AUTH}/login", json={"email": email, "password": wrong}, headers=rid("bad_login")
        )
        assert bad.status_code == 401
        login = await client.post(
            f"{AUTH}/login", json={"email": email, "password": password}, headers=rid("login")
        )
        assert login.status_code == 200
        session = login.json()
        used |= {session["access_token"], session["refresh_token"], session["device_token"]}
        used |= set(client.cookies.values())
        me = await client.get("/api/v1/users/me", headers=rid("me"))  # by cookie
        assert me.status_code == 200
        csrf = client.cookies["maria_csrf"]
        refreshed = await client.post(
            f"{AUTH}/refresh", headers={"X-CSRF-Token": csrf, **rid("refresh")}
        )  # by cookie
        assert refreshed.status_code == 200, refreshed.text
        session = refreshed.json()
        used |= {session["access_token"], session["refresh_token"]}
        used |= set(client.cookies.values())

        verify = link_query((await sink.wait(email))[0], "/verify-email")["token"]
        used.add(verify)
        ok = await client.post(f"{AUTH}/email/verify", json={"token": verify}, headers=rid("v"))
        assert ok.status_code == 204
        await client.post(f"{AUTH}/password/forgot", json={"email": email})
        reset = link_query((await sink.wait(email, 2))[1], "/reset-password")["token"]
        used.add(reset)
        done = await client.post(
            f"{AUTH}/password/reset",
            json={"token": reset, "new_password": new_password},
            headers=rid("reset"),
        )
        assert done.status_code == 204, done.text
        await client.post(f"{AUTH}/email-code", json={"email": email})
        code = code_of((await sink.wait(email, 4))[3])  # after the password-changed notice
        used.add(code)
        coded = await client.post(
            f"{AUTH}/email-code/verify", json={"email": email, "code": code}, headers=rid("code")
        )
        assert coded.status_code == 200, coded.text
        session = coded.json()
        used |= {session["access_token"], session["refresh_token"], session["device_token"]}
        used |= set(client.cookies.values())

        room = await client.post(
            "/api/v1/rooms", json={"movie_id": 301, "title": "Film"}, headers=bearer(session)
        )
        assert room.status_code == 201
        peer = await Peer.open(
            base, room.json()["id"], additional_headers=rid("socket"), proxy=None
        )
        await peer.send({"type": "auth", "token": session["access_token"]})
        await peer.expect("welcome")
        await peer.send({"type": "chat", "text": "hello from the flow"})
        await peer.expect("chat")
        await peer.close()
        scraped = await client.get(
            "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}", **rid("metrics")}
        )
        assert scraped.status_code == 200
        out = await client.post(f"{AUTH}/logout", headers={**bearer(session), **rid("logout")})
        assert out.status_code == 204
    return {s for s in used if s}, rids


async def test_a_full_flow_logs_json_lines_with_request_ids_and_no_secret(
    production: Server, sink: MailSink
) -> None:
    used, rids = await full_flow(production.url, sink)

    async def all_logged() -> bool:  # a line is written once its answer has gone out
        seen = {line.get("request_id") for line in json_lines(production)}
        return set(rids.values()) <= seen

    await converge("a line of every request", all_logged, within=10)
    lines = json_lines(production)  # every line parses as JSON
    text = production.log()
    for secret in used:
        assert secret not in text, f"a secret of the flow is in the log: {secret[:6]}..."
    # uvicorn's own lines, in the same format.
    assert any(line["logger"].startswith("uvicorn") for line in lines)
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    by_id = {}
    for line in lines:
        by_id.setdefault(line.get("request_id"), []).append(line)
    for step, request_id in rids.items():
        assert request_id in by_id, f"no line of the {step} request"
    login = by_id[rids["login"]]
    assert [(x["method"], x["route"], x["status"]) for x in login] == [
        ("POST", "/api/v1/auth/login", 200)
    ]
    me = by_id[rids["me"]][0]
    assert me["user_id"] and me["client"] == "127.0.0.1" and me["duration_ms"] >= 0
    # The socket: the join (a line of the room code) and its access line share its id.
    socket = by_id[rids["socket"]]
    assert {x["logger"] for x in socket} >= {"maria.rooms", "maria.access"}, socket
    access = next(x for x in socket if x["logger"] == "maria.access")
    assert (access["method"], access["route"], access["status"]) == (
        "WS",
        "/api/v1/rooms/{room_id}/ws",
        101,
    )
