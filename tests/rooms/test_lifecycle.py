"""Reconnects, deleting a room under open sockets, and dead sockets."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from maria.app import create_app
from maria.migrate import upgrade
from tests.support.api import PASSWORD, assert_error, bearer
from tests.support.app import make_settings
from tests.support.rooms import Api, Peer
from tests.support.servers import MARIA, Server, uvicorn_thread


async def test_reconnect_within_the_grace_causes_no_churn(server: Server, api: Api) -> None:
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    await a.expect("presence", event="join")
    await b.close()  # a dropped connection ...
    b = await Peer.open(server.url, room["id"], bob["access_token"])  # ... and back at once
    assert b.welcome["user_id"] == bob["user"]["id"]
    await b.send({"type": "chat", "text": "back"})
    await a.expect("chat", text="back")
    await asyncio.sleep(2)  # past the grace (1.5 s here): still no leave
    await a.ping()
    assert not [f for f in a.skipped if f["type"] == "presence"]
    await a.close()
    await b.close()


async def test_deleting_a_room_closes_its_sockets(server: Server, api: Api) -> None:
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    path = f"/api/v1/rooms/{room['id']}"
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    assert_error(await api.client.delete(path, headers=bearer(bob)), 403, "forbidden")
    assert (await api.client.delete(path, headers=bearer(ann))).status_code == 204
    for peer in (a, b):
        code, reason = await peer.closed()
        assert code == 4410 and reason and reason.startswith("room_deleted")
    assert_error(await api.get(ann, path), 404, "not_found")
    assert_error(await api.get(ann, path + "/messages"), 404, "not_found")
    assert_error(await api.client.delete(path, headers=bearer(ann)), 404, "not_found")
    late = await Peer.open(server.url, room["id"], None)
    await late.send({"type": "auth", "token": ann["access_token"]})
    assert (await late.closed())[0] == 4404


async def test_an_admin_can_delete_any_room(server: Server, api: Api) -> None:
    ann = await api.user("Ann")
    room = await api.room(ann)
    admin_email = f"admin-{room['id'][:8]}@example.com"
    created = await asyncio.to_thread(
        subprocess.run,
        [str(MARIA), "create-admin", "--email", admin_email, "--password-stdin"],
        input=f"{PASSWORD}\n",
        env=server.env,
        cwd=server.cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    login = await api.client.post(
        "/api/v1/auth/login", json={"email": admin_email, "password": PASSWORD}
    )
    admin = login.json()
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    response = await api.client.delete(f"/api/v1/rooms/{room['id']}", headers=bearer(admin))
    assert response.status_code == 204
    assert (await a.closed())[0] == 4410


# -- a server in this process, with a fast keep-alive ping --------------------------------


@pytest.fixture
def quick_ping_server(tmp_path: Path) -> Iterator[str]:
    """uvicorn in a thread, pinging every 0.3 s and giving up after 0.3 s without a pong."""
    db = tmp_path / "maria.db"
    upgrade(f"sqlite+aiosqlite:///{db}")
    settings = make_settings(
        f"sqlite+aiosqlite:///{db}", tmp_path, room_reconnect_grace=0.5, room_host_grace=60
    )
    with uvicorn_thread(
        create_app(settings), ws_ping_interval=0.3, ws_ping_timeout=0.3, lifespan="on"
    ) as port:
        yield f"http://127.0.0.1:{port}"


async def test_a_dead_socket_is_dropped_by_the_heartbeat(quick_ping_server: str) -> None:
    async with httpx.AsyncClient(base_url=quick_ping_server, timeout=30) as client:
        api = Api(client)
        ann, bob = await api.user("Ann"), await api.user("Bob")
        room = await api.room(ann)
        a = await Peer.open(quick_ping_server, room["id"], ann["access_token"])
        # Bob's client answers no pings: its own keep-alive is off and it stops reading.
        b = await Peer.open(quick_ping_server, room["id"], bob["access_token"], ping_interval=None)
        await a.expect("presence", event="join")
        transport = b.ws.transport
        transport.pause_reading()
        left = await a.expect("presence", event="leave")
        assert left["user_id"] == bob["user"]["id"]
        detail = (await api.get(ann, f"/api/v1/rooms/{room['id']}")).json()
        assert [m["name"] for m in detail["members"]] == ["Ann"]
        transport.abort()
        await a.close()
