"""Request ids and log lines, in this process: the id a client sends is kept when it has a
safe shape (else replaced), echoed, and on every line the request causes; the JSON and text
formats. ``tests/test_logs_server.py`` reads a real server's output."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from maria.logs import REQUEST_ID, JsonFormatter, TextFormatter, detached, request_id
from tests.support.api import bearer, register
from tests.support.app import app_and_client, make_settings

HEX32 = re.compile(r"[0-9a-f]{32}")


@contextlib.contextmanager
def captured(name: str) -> Iterator[io.StringIO]:
    """What logger ``name`` writes (INFO and up) during the block, as JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(name)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
async def logged_client(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    shutil.copy(sqlite_template, tmp_path / "maria.db")
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'maria.db'}", tmp_path, access_log=True
    )
    async with app_and_client(settings) as (_, client):
        yield client


def test_request_ids_of_a_safe_shape_are_kept_others_replaced() -> None:
    for kept in ("abc", "0" * 128, "Root=1-5f84c7a5-0b2c;".rstrip(";"), "a.b_c:d-e/f+g="):
        assert request_id(kept) == kept
    for replaced in (None, "", "x" * 129, "a b", "a\nb", 'a"b', "a\x00b", "ключ", "a;b"):
        new = request_id(replaced)
        assert HEX32.fullmatch(new), (replaced, new)
    assert request_id(None) != request_id(None)


async def test_the_request_id_is_echoed(logged_client: httpx.AsyncClient) -> None:
    session = await register(logged_client)
    me = await logged_client.get(
        "/api/v1/users/me", headers={**bearer(session), "X-Request-ID": "req-me-1"}
    )
    assert me.headers["x-request-id"] == "req-me-1"
    forged = await logged_client.get("/healthz", headers={"X-Request-ID": "evil\r\nline"})
    generated = forged.headers["x-request-id"]
    assert HEX32.fullmatch(generated)
    plain = await logged_client.get("/healthz")
    assert HEX32.fullmatch(plain.headers["x-request-id"])
    assert plain.headers["x-request-id"] != generated
    refused = await logged_client.get(
        "/api/v1/users/me", headers={"Authorization": "Bearer nope", "X-Request-ID": "req-401"}
    )
    assert refused.status_code == 401 and refused.headers["x-request-id"] == "req-401"


async def test_access_lines_carry_route_status_duration_user_and_request_id(
    logged_client: httpx.AsyncClient,
) -> None:
    with captured("maria.access") as stream:
        session = await register(logged_client)
        await logged_client.get(
            "/api/v1/users/me?secret=s3cr3t", headers={**bearer(session), "X-Request-ID": "r-me"}
        )
        logged_client.cookies.clear()  # anonymous from here on
        await logged_client.get(f"/api/v1/users/{session['user']['id']}/lists/x/items")
        await logged_client.get("/healthz", headers={"X-Request-ID": "bad id"})
    found = [json.loads(line) for line in stream.getvalue().splitlines()]
    me = next(line for line in found if line.get("request_id") == "r-me")
    assert me["logger"] == "maria.access" and me["level"] == "INFO"
    assert (me["method"], me["route"], me["status"]) == ("GET", "/api/v1/users/me", 200)
    assert me["user_id"] == session["user"]["id"]
    assert me["client"] == "203.0.113.7"
    assert isinstance(me["duration_ms"], float | int) and me["duration_ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", me["time"])
    assert "s3cr3t" not in stream.getvalue()  # the query string is never logged
    public = next(x for x in found if x["route"] == "/api/v1/users/{user_id}/lists/{slug}/items")
    assert "user_id" not in public and session["user"]["id"] not in json.dumps(public)
    health = next(line for line in found if line["route"] == "/healthz")
    assert HEX32.fullmatch(health["request_id"])
    assert "user_id" not in health


async def test_a_warning_inside_a_request_carries_its_request_id(
    logged_client: httpx.AsyncClient,
) -> None:
    with captured("maria.auth") as stream:
        session = await register(logged_client)
        refresh = "/api/v1/auth/refresh"
        one = await logged_client.post(refresh, json={"refresh_token": session["refresh_token"]})
        two = await logged_client.post(refresh, json={"refresh_token": one.json()["refresh_token"]})
        assert two.status_code == 200
        reused = await logged_client.post(
            refresh,
            json={"refresh_token": session["refresh_token"]},
            headers={"X-Request-ID": "reuse-1"},
        )
        assert reused.status_code == 401
    warning = next(json.loads(line) for line in stream.getvalue().splitlines() if "reuse" in line)
    assert warning["level"] == "WARNING" and warning["request_id"] == "reuse-1"
    assert session["refresh_token"] not in stream.getvalue()


def test_json_lines_hold_exceptions_and_no_request_id_outside_requests() -> None:
    formatter = JsonFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed: %s", ("ünïcode",), exc_info=True
        )
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(formatter.format(record))
    assert line["message"] == "failed: ünïcode" and "ValueError: boom" in line["exc"]
    assert "request_id" not in line and "\n" not in formatter.format(record)
    token = REQUEST_ID.set("abc")
    try:
        assert json.loads(formatter.format(record))["request_id"] == "abc"
        assert "[abc]" in TextFormatter().format(record)
        assert detached().run(REQUEST_ID.get) is None  # background work: no request's id
    finally:
        REQUEST_ID.reset(token)
