"""The room WebSocket's wire format: parsing client frames, building server frames.

Every frame is one JSON object with a ``type``; ``frames`` has a model for each, which
``parse`` validates with and ``asyncapi`` publishes. Parsing never raises anything but
``FrameError``, whose code and message become an ``error`` frame: a malformed frame costs
its sender one error reply and nothing else. Unknown fields are ignored (forward
compatibility); known fields must have exactly the documented JSON types.

Server frames are encoded from dicts here (the hot paths: one ``json.dumps``, no model);
the tests check every one they receive against its published schema. Liveness is the
server's WebSocket ping (uvicorn pings every 20 s and drops a socket silent for 20 s
more), so no heartbeat frame exists at this level.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

from maria.rooms.frames import (
    AnyClientFrame,
    ClientFrame,
    ErrorCode,
)
from maria.rooms.playback import Playback
from maria.rooms.queue import Queue
from maria.rooms.roles import Roles

MAX_FRAME_BYTES = 16 * 1024

CLOSE_SERVICE_RESTART = 1012  # RFC 6455 registry: reconnect, to this or another instance
CLOSE_SLOW = 1008
CLOSE_TRY_AGAIN_LATER = 1013  # the database is away: the socket could not join
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_ROOM_FULL = 4409
CLOSE_DELETED = 4410
CLOSE_CODES: dict[int, str] = {
    CLOSE_UNAUTHENTICATED: "Not (or no longer) authenticated: no auth in time, a token that "
    "expired without a fresh `auth`, a revoked session, an account gone. The reason says which.",
    CLOSE_FORBIDDEN: "Not allowed in the room: `kicked` (by the host or a co-host), `banned` "
    "(kicked less than `MARIA_ROOM_KICK_BAN` seconds ago), or `forbidden` (a private room "
    "needs an invite). Final: do not reconnect on your own",
    CLOSE_NOT_FOUND: "No such room",
    CLOSE_ROOM_FULL: "`room_full`: the room has as many users present as its capacity. "
    "Final: try again later, at the user's request",
    CLOSE_DELETED: "The room was deleted",
    CLOSE_SLOW: "The client reads so slowly that 10,000 frames wait for it",
    CLOSE_SERVICE_RESTART: "The server is restarting (a deploy): reconnect with back-off, to "
    "it or another instance; the welcome frame puts the client back in step",
    CLOSE_TRY_AGAIN_LATER: "Try again later: the database is away, so the socket could not "
    "join; reconnect with back-off",
}
ERROR_CODES: dict[ErrorCode, str] = {
    "invalid_json": "The frame is not a JSON object (NaN and Infinity are not JSON)",
    "unknown_type": "No client frame has this `type` (or it has none)",
    "validation_error": "A field is missing or out of its rules; the message names it",
    "unsupported_frame": "A binary frame: send JSON text frames",
    "payload_too_large": f"A frame larger than {MAX_FRAME_BYTES} bytes (UTF-8)",
    "forbidden": "Not allowed: only the host and co-hosts (or everyone, in `everyone` mode) "
    "control playback and the queue, only the host hands over, only the host (or a "
    "co-host, for members) moderates; the sender is muted or the chat is locked; or the "
    "token is another user's",
    "not_found": "The user named is not in the room (nor has been), no queue entry has "
    "that index, no list of yours has that slug, the message reacted to is no message of "
    "this room, or the room is gone",
    "conflict": "The queue is full, or a playback or queue change kept losing the race to "
    "other members' changes (`everyone` mode): changing too fast, try again",
    "rate_limited": "Too many frames (20 a second, bursts of 200), chat messages or "
    "reactions; `retry_after` says when they are allowed again",
    "unavailable": "The server could not do that now (the database is away); try again",
    "invalid_token": "The `auth` frame's token is refused (bad signature, revoked, an "
    "account gone)",
    "token_expired": "The `auth` frame's token has expired",
}

Command = AnyClientFrame
COMMANDS: TypeAdapter[Command] = TypeAdapter(ClientFrame)  # what parse validates with
# The only texts on which pydantic's JSON parser and ``json.loads`` may disagree about
# validity: the constants NaN and Infinity, which ``json.loads`` takes and Maria refuses.
_CONSTANTS = ("NaN", "Infinity")


class Refused(Exception):
    """A socket that may not join the room: closed with ``code``, the reason being
    ``"<why>: <message>"`` (``why`` a word clients can tell apart: ``banned``...)."""

    def __init__(self, code: int, why: str, message: str) -> None:
        super().__init__(f"{why}: {message}")
        self.code = code
        self.why = why
        self.message = message


class FrameError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _text(data: str | bytes | None) -> str:
    """A received frame's text, if it is a text frame of allowed size."""
    if not isinstance(data, str):
        raise FrameError("unsupported_frame", "Send JSON text frames, not binary ones")
    if len(data) > MAX_FRAME_BYTES or (
        len(data) * 4 > MAX_FRAME_BYTES
        and len(data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES
    ):
        raise FrameError("payload_too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes")
    return data


def decode(data: str | bytes | None) -> dict[str, Any]:
    """The JSON object of one received frame."""
    text = _text(data)
    try:
        obj = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise FrameError("invalid_json", "The frame is not valid JSON") from None
    if not isinstance(obj, dict):
        raise FrameError("invalid_json", "The frame must be a JSON object")
    return obj


def parse(data: str | bytes | None) -> Command:
    """One client frame as its model (``frames``); ``FrameError`` for anything else.

    A frame is validated straight from its JSON text (pydantic-core parses and validates
    in one pass). Whatever that refuses is decoded again with ``json.loads`` and validated
    from the object, which is what decides the answer: which of ``invalid_json``,
    ``unknown_type`` or ``validation_error``, and the message naming the field. The fast
    pass only ever accepts what the exact one accepts (``tests/rooms/test_units.py``
    compares them on generated frames).
    """
    text = _text(data)
    if not any(constant in text for constant in _CONSTANTS):
        try:
            return COMMANDS.validate_json(text)
        except ValueError:  # a ValidationError, or a str that is no UTF-8 at all
            pass
    obj = decode(text)
    try:
        return COMMANDS.validate_python(obj)
    except ValidationError as exc:
        raise _refusal(obj, exc) from None


def _refusal(obj: dict[str, Any], exc: ValidationError) -> FrameError:
    error = exc.errors(include_url=False, include_input=False)[0]
    if error["type"] in ("union_tag_not_found", "union_tag_invalid"):
        kind = obj.get("type")
        if not isinstance(kind, str):
            return FrameError("unknown_type", "The frame needs a string 'type'")
        return FrameError("unknown_type", f"Unknown frame type {kind[:40]!r}")
    loc = error["loc"][1:]  # the first is the frame's type
    message: str = error["msg"]
    if error["type"] == "missing":
        message = "is required"
    for prefix in ("Input should ", "String should "):  # pydantic's words, in ours
        if message.startswith(prefix):
            message = "must " + message.removeprefix(prefix)
    if not loc:  # a rule of the whole frame: its message names the fields
        return FrameError("validation_error", message)
    return FrameError("validation_error", f"'{loc[0]}' {message}")


# -- server frames --------------------------------------------------------------------


def encode(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def error(code: str, message: str, **extra: Any) -> str:
    return encode({"type": "error", "code": code, "message": message, **extra})


def playback(state: Playback) -> str:
    return encode({"type": "playback", **state.as_dict()})


def control(mode: str, host_id: str | None) -> str:
    return encode({"type": "control", "mode": mode, "host_id": host_id})


def presence(event: str, user_id: str, name: str) -> str:
    return encode({"type": "presence", "event": event, "user_id": user_id, "name": name})


def chat(message: dict[str, Any]) -> str:
    return encode({"type": "chat", **message})


def pong(t0: float | int, server_time: int) -> str:
    return encode({"type": "pong", "t0": t0, "server_time": server_time})


def authenticated(user_id: str, expires_at: int) -> str:
    return encode({"type": "authenticated", "user_id": user_id, "expires_at": expires_at})


def ready(user_id: str, state: str) -> str:
    return encode({"type": "ready", "user_id": user_id, "state": state})


def queue(state: Queue) -> str:
    return encode({"type": "queue", **state.as_dict()})


def ping(t0: int) -> str:
    return encode({"type": "ping", "t0": t0})


def clock(rtt: float, offset: float) -> str:
    return encode({"type": "clock", "rtt": rtt, "offset": offset})


def drift(delta: float, position: float, at: float) -> str:
    return encode({"type": "drift", "delta": delta, "position": position, "at": at})


def roles(state: Roles) -> str:
    return encode({"type": "roles", **state.as_dict()})


def moderated(action: str, user_id: str | None, by: str) -> str:
    frame: dict[str, Any] = {"type": "moderated", "action": action, "by": by}
    if user_id is not None:
        frame["user_id"] = user_id
    return encode(frame)


def reaction(fields: dict[str, Any]) -> str:
    return encode({"type": "reaction", **fields})
