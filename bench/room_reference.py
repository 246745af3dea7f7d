"""The reference of the rooms benchmark: a bare ASGI WebSocket fan-out, no Maria.

Every socket on one path is in one room. The first frame (the benchmark's auth frame) is
answered with ``{"type":"welcome"}``; each chat frame gets the next number and an id, is
encoded once and sent to every socket of the room with ASGI ``websocket.send``, one socket
after the other, the way a FastAPI or Starlette app broadcasts (the ``ConnectionManager`` of
FastAPI's WebSocket docs). No authentication, storage, throttle or second process: what
remains is uvicorn's own cost of a broadcast. Served the way ``maria serve`` serves Maria
(uvloop, httptools, no permessage-deflate), with uvicorn's stock WebSocket protocol.

    python bench/room_reference.py --port 8002
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
import uuid
from collections import defaultdict
from typing import Any

Send = Any
ROOMS: dict[str, dict[int, Send]] = defaultdict(dict)
NUMBERS = itertools.count(1)
OK = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"3")]}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["type"] == "http":  # /healthz, for the benchmark's readiness wait
        await send(OK)
        await send({"type": "http.response.body", "body": b"ok\n"})
    else:
        await room_socket(scope["path"], receive, send)


async def room_socket(path: str, receive: Any, send: Any) -> None:
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    room, me = ROOMS[path], id(send)
    try:
        if (await receive())["type"] != "websocket.receive":  # the auth frame
            return
        room[me] = send
        await send({"type": "websocket.send", "text": '{"type":"welcome"}'})
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            command = json.loads(message.get("text") or "{}")
            if command.get("type") == "chat":
                frame = json.dumps(
                    {
                        "type": "chat",
                        "id": str(uuid.uuid4()),
                        "seq": next(NUMBERS),
                        "text": command["text"],
                        "timestamp": int(time.time() * 1000),
                        "name": "member",
                    }
                )
                for member in list(room.values()):
                    try:
                        await member({"type": "websocket.send", "text": frame})
                    except Exception:  # noqa: S112 - that member is gone; its own loop ends
                        continue
    finally:
        room.pop(me, None)


def main() -> None:
    from ceiling import serve_like_maria

    p = argparse.ArgumentParser(description="bare ASGI room fan-out for the rooms benchmark")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8002)
    args = p.parse_args()
    serve_like_maria("room_reference:app", args.host, args.port)


if __name__ == "__main__":
    main()
