"""SIGTERM under open room sockets: every member is told 1012 (service restart) so that
clients reconnect, to this instance when it is back or to another; nothing stored is lost."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path

import httpx

from tests.support.rooms import Api, Peer, server_env
from tests.support.servers import started


async def test_sigterm_closes_room_sockets_with_1012_and_keeps_the_chat(tmp_path: Path) -> None:
    with ExitStack() as stack:
        env = server_env(tmp_path / "data")
        server = started(stack, "A", env, tmp_path)
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as http:
            api = Api(http)
            ann, bob = await api.user("Ann"), await api.user("Bob")
            room = await api.room(ann)
            pa = await Peer.open(server.url, room["id"], ann["access_token"])
            pb = await Peer.open(server.url, room["id"], bob["access_token"])
            await pa.send({"type": "chat", "text": "before the restart"})
            await pb.expect("chat", text="before the restart")

            stopping = asyncio.get_running_loop().run_in_executor(None, server.stop)
            codes = await asyncio.gather(pa.closed(), pb.closed())
            assert [code for code, _ in codes] == [1012, 1012], codes
            await stopping  # uvicorn ends by re-raising the SIGTERM it handled: exit -15
            assert "Application shutdown complete" in server.log(), server.log()
            assert "Traceback" not in server.log(), server.log()

        again = started(stack, "A-again", env, tmp_path)  # the same data dir and database
        async with httpx.AsyncClient(base_url=again.url, timeout=15) as http:
            api = Api(http)
            history = await api.get(ann, f"/api/v1/rooms/{room['id']}/messages")
            assert [m["text"] for m in history.json()] == ["before the restart"]
            pa = await Peer.open(again.url, room["id"], ann["access_token"])
            assert pa.welcome["type"] == "welcome", pa.welcome
            await pa.close()
