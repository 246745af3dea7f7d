"""The room WebSocket's wire format: parsing client frames, building server frames.

Every frame is one JSON object with a ``type``. Parsing never raises anything but
``FrameError``, whose code and message become an ``error`` frame: a malformed frame costs
its sender one error reply and nothing else. Unknown fields are ignored (forward
compatibility); known fields must have exactly the documented JSON types.

Close codes: 4401 not (or no longer) authenticated, 4404 unknown room, 4410 room deleted,
1008 the client reads too slowly, 1012 the server restarts (reconnect), 1013 try again
later (the database is away). Liveness is the server's WebSocket ping (uvicorn pings every
20 s and drops a socket silent for 20 s more), so no heartbeat frame exists at this level.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, cast

from maria.rooms.models import MAX_TEXT
from maria.rooms.playback import ACTIONS, Action, BadPosition, Playback, valid_position

MAX_FRAME_BYTES = 16 * 1024
MAX_TOKEN = 8 * 1024
MAX_USER_ID = 64
CONTROL_MODES = frozenset({"host", "everyone"})

CLOSE_SERVICE_RESTART = 1012  # RFC 6455 registry: reconnect, to this or another instance
CLOSE_SLOW = 1008
CLOSE_TRY_AGAIN_LATER = 1013  # the database is away: the socket could not join
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_DELETED = 4410


class FrameError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Auth:
    token: str


@dataclass(frozen=True, slots=True)
class Chat:
    text: str


@dataclass(frozen=True, slots=True)
class PlaybackCommand:
    action: Action
    position: float | None


@dataclass(frozen=True, slots=True)
class Control:
    mode: str


@dataclass(frozen=True, slots=True)
class Host:
    user_id: str


@dataclass(frozen=True, slots=True)
class Ping:
    t0: float | int


Command = Auth | Chat | PlaybackCommand | Control | Host | Ping


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = obj.get(name)
    if value is None or isinstance(value, bool) or not isinstance(value, kind):
        raise FrameError("validation_error", f"'{name}' must be {what}")
    return value


def _number(obj: dict[str, Any], name: str) -> float | int:
    value = _field(obj, name, (int, float), "a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise FrameError("validation_error", f"'{name}' must be a finite number")
    return value  # type: ignore[no-any-return]


def chat_text(raw: str) -> str:
    """Chat text as stored: trimmed, 1–1000 characters, storable everywhere."""
    text = raw.strip()
    if not 1 <= len(text) <= MAX_TEXT:
        raise FrameError("validation_error", f"'text' must be 1-{MAX_TEXT} characters")
    if "\x00" in text:
        raise FrameError("validation_error", "'text' must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a "\\ud800" escape
        raise FrameError("validation_error", "'text' is not valid Unicode") from None
    return text


def decode(data: str | bytes | None) -> dict[str, Any]:
    """The JSON object of one received frame."""
    if not isinstance(data, str):
        raise FrameError("unsupported_frame", "Send JSON text frames, not binary ones")
    if len(data) > MAX_FRAME_BYTES or (
        len(data) * 4 > MAX_FRAME_BYTES
        and len(data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES
    ):
        raise FrameError("payload_too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes")
    try:
        obj = json.loads(data, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise FrameError("invalid_json", "The frame is not valid JSON") from None
    if not isinstance(obj, dict):
        raise FrameError("invalid_json", "The frame must be a JSON object")
    return obj


def parse(data: str | bytes | None) -> Command:
    """One client frame as a command; ``FrameError`` for anything else."""
    obj = decode(data)
    kind = obj.get("type")
    if kind == "chat":
        return Chat(chat_text(_field(obj, "text", str, "a string")))
    if kind == "ping":
        return Ping(_number(obj, "t0"))
    if kind == "playback":
        action = obj.get("action")
        if not isinstance(action, str) or action not in ACTIONS:  # a list is unhashable
            raise FrameError("validation_error", "'action' must be play, pause or seek")
        position = obj.get("position")
        try:
            value = None if position is None else valid_position(position)
        except BadPosition as exc:
            raise FrameError("validation_error", str(exc)) from None
        if value is None and action == "seek":
            raise FrameError("validation_error", "seek needs a 'position'")
        return PlaybackCommand(cast(Action, action), value)
    if kind == "control":
        mode = obj.get("mode")
        if not isinstance(mode, str) or mode not in CONTROL_MODES:
            raise FrameError("validation_error", "'mode' must be host or everyone")
        return Control(mode)
    if kind == "host":
        user_id = _field(obj, "user_id", str, "a user id")
        if not 0 < len(user_id) <= MAX_USER_ID:
            raise FrameError("validation_error", "'user_id' is not a user id")
        return Host(user_id)
    if kind == "auth":
        token = _field(obj, "token", str, "an access token")
        if len(token) > MAX_TOKEN:
            raise FrameError("validation_error", "'token' is too long")
        return Auth(token)
    if not isinstance(kind, str):
        raise FrameError("unknown_type", "The frame needs a string 'type'")
    raise FrameError("unknown_type", f"Unknown frame type {kind[:40]!r}")


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
