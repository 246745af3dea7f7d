"""The room WebSocket as an AsyncAPI 3.0 document (``GET /asyncapi.json``, ``maria schema
asyncapi``), generated from the frame models the server validates with (``frames``).

The document describes Maria, as ``/openapi.json`` does: it *receives* the client frames
and *sends* the server frames (AsyncAPI 3 names an operation's ``action`` from the
described application's side). Every frame's JSON Schema is in ``components.schemas``
(pydantic's ``$defs`` lifted there, so types can be generated from that one map), with
``ClientFrame`` and ``ServerFrame``, the unions discriminated by ``type``. Close codes,
error codes and limits are data too: ``x-close-codes``, ``x-error-codes`` and ``x-limits``
on the channel.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from maria import __version__
from maria.rooms.conn import FRAME_BURST, FRAME_RATE, MAX_OUTBOX
from maria.rooms.frames import CLIENT_FRAMES, SERVER_FRAMES
from maria.rooms.protocol import CLOSE_CODES, ERROR_CODES, MAX_FRAME_BYTES

ADDRESS = "/api/v1/rooms/{room_id}/ws"
SCHEMAS = "#/components/schemas/"
CHANNEL = "room"

DESCRIPTION = """\
Watch-together rooms: chat, playback and presence, live.

**Authentication**, in this order: a bearer `Authorization` header; else the access \
cookie, if the page's `Origin` is an allowed origin (`MARIA_CORS_ORIGINS`), the socket's \
own host, or absent; else a first frame `{"type": "auth", "token": "<access token>"}` \
within `MARIA_ROOM_AUTH_TIMEOUT` (5 s). Otherwise the socket is closed with 4401. Before \
the token expires, send `auth` again with a fresh one (answered `authenticated`), or the \
socket is closed with 4401.

**Frames** are JSON text objects of at most 16 KiB, told apart by `type`. Unknown fields \
are ignored; known fields must have exactly the JSON types of their schema (`true` and \
`"1"` are no numbers; NaN and Infinity are not JSON). A refused frame is answered with one \
`error` frame and the socket carries on. Frames are answered in the order sent. The first \
server frame is `welcome`.

**Limits**: 20 frames a second per socket (bursts of 200); chat at most \
`MARIA_ROOM_CHAT_LIMIT` messages per `MARIA_ROOM_CHAT_WINDOW` seconds per user (5 per 2 s \
by default), reactions as many (counted apart). Only the host and co-hosts control \
playback and the queue unless the host set `control` to `everyone`.

**Running a room**: the host makes members co-hosts (`role`); the host and co-hosts \
`kick`, `mute`, `lock` and `clear`, but a co-host moderates members only and nobody the \
host. Each action is announced with `moderated` (and `roles` for the state it leaves). A \
private room without an invite, a kick and its ban (`MARIA_ROOM_KICK_BAN`) close 4403; a \
room at its capacity closes 4409.

**Liveness**: the server sends WebSocket pings every 20 s and drops a socket that does not \
answer within 20 s; `ping` frames are for the clock offset (keep the sample with the \
lowest round trip).

**In step**: answer the server's `ping` at once with `pong` (it measures your round trip \
and clock offset: `clock`); report `ready`/`buffering` for the current film (a `play` \
waits while anyone is buffering, at most `MARIA_ROOM_READY_TIMEOUT` s, then starts at a \
scheduled `at`, the same for everyone); while playing, report your `position` every ~2 s \
and correct a `drift` (rate `1 - delta / 2` for 2 s below 0.4 s, a seek from 0.4 s on).

Close codes and error codes: `x-close-codes` and `x-error-codes` of this channel.
"""


def _message_key(model: type[BaseModel]) -> str:
    return model.__name__[0].lower() + model.__name__[1:]


def _message(model: type[BaseModel], schema: dict[str, Any], side: str) -> dict[str, Any]:
    kind = schema["properties"]["type"]["const"]
    message: dict[str, Any] = {
        "name": kind,
        "title": f"{kind} ({side})",
        "summary": " ".join(schema.get("description", "").split()),
        "contentType": "application/json",
        "payload": {"$ref": SCHEMAS + model.__name__},
    }
    examples = schema.get("examples", [])
    if examples:
        message["examples"] = [
            {"name": f"{kind}{i or ''}", "payload": example} for i, example in enumerate(examples)
        ]
    return message


def _union(models: tuple[type[BaseModel], ...], description: str) -> dict[str, Any]:
    return {
        "description": description,
        "oneOf": [{"$ref": SCHEMAS + model.__name__} for model in models],
        "discriminator": "type",  # an AsyncAPI Schema's discriminator: a property name
    }


def _listing(codes: dict[Any, str]) -> str:
    return "\n".join(f"- `{code}`: {meaning}" for code, meaning in codes.items())


@functools.cache
def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the room socket (built once, then shared: do not
    change it)."""
    models = (*CLIENT_FRAMES, *SERVER_FRAMES)
    _, top = models_json_schema(
        [(model, "validation") for model in models], ref_template=SCHEMAS + "{model}"
    )
    schemas: dict[str, Any] = top["$defs"]
    schemas["ClientFrame"] = _union(CLIENT_FRAMES, "Any frame a client sends")
    schemas["ServerFrame"] = _union(SERVER_FRAMES, "Any frame the server sends")
    messages = {
        _message_key(model): _message(model, schemas[model.__name__], side)
        for side, group in (("client", CLIENT_FRAMES), ("server", SERVER_FRAMES))
        for model in group
    }

    def refs(group: tuple[type[BaseModel], ...]) -> list[dict[str, str]]:
        return [{"$ref": f"#/channels/{CHANNEL}/messages/{_message_key(m)}"} for m in group]

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Maria room socket",
            "version": __version__,
            "description": "The WebSocket of Maria's watch-together rooms, for Kinoway, as "
            "Maria sees it: it receives the client frames (`receiveClientFrame`) and sends "
            "the server frames (`sendServerFrame`). `components.schemas` has every frame's "
            "JSON Schema, and the unions `ClientFrame` and `ServerFrame`. The HTTP API is "
            "described by `/openapi.json`.",
        },
        "defaultContentType": "application/json",
        "channels": {
            CHANNEL: {
                "address": ADDRESS,
                "title": "A room's socket",
                "description": DESCRIPTION
                + "\n\nClose codes:\n"
                + _listing(CLOSE_CODES)
                + "\n\nError codes (`error` frames):\n"
                + _listing(ERROR_CODES),
                "parameters": {
                    "room_id": {
                        "description": "The room's id (a UUID, as `POST /api/v1/rooms` "
                        "returns it); an unknown room closes the socket with 4404"
                    }
                },
                "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in messages},
                "bindings": {"ws": {"method": "GET", "bindingVersion": "0.1.0"}},
                "x-close-codes": {str(code): meaning for code, meaning in CLOSE_CODES.items()},
                "x-error-codes": dict(ERROR_CODES),
                "x-limits": {
                    "maxFrameBytes": MAX_FRAME_BYTES,
                    "framesPerSecond": FRAME_RATE,
                    "framesBurst": FRAME_BURST,
                    "maxQueuedFrames": MAX_OUTBOX,
                },
            }
        },
        "operations": {
            "receiveClientFrame": {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{CHANNEL}"},
                "title": "Frames a client sends",
                "summary": "Maria receives these from the client (see ClientFrame)",
                "messages": refs(CLIENT_FRAMES),
            },
            "sendServerFrame": {
                "action": "send",
                "channel": {"$ref": f"#/channels/{CHANNEL}"},
                "title": "Frames the server sends",
                "summary": "Maria sends these to the client (see ServerFrame)",
                "messages": refs(SERVER_FRAMES),
            },
        },
        "components": {"schemas": schemas, "messages": messages},
    }


@functools.cache
def rendered() -> bytes:
    """The document as the JSON that ``/asyncapi.json`` answers."""
    return json.dumps(document(), ensure_ascii=False, indent=1).encode()
