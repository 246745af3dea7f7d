"""What instances tell each other about rooms, over the broker's ``channels.ROOMS``.

One channel for all rooms: every subscriber receives its messages in the one order Redis
published them. A message is ``"<room id> <json>"``, so an instance skips rooms it does not
serve without parsing JSON (``room_of``). Each event is a dataclass with its wire form,
made only by ``encode`` and read only by ``decode``, which refuses anything malformed with
``BadEvent``. (One more writer of the wire form: the Redis presence store's sweep script,
which announces ``LeaveEvent``s for instances that died; ``presence.py``.)

Wire forms (``k`` is the kind): ``{"k":"chat","m":[Message...]}``,
``{"k":"join","m":{"user_id","name","since"}}``, ``{"k":"leave","u":user,"n":name}``,
``{"k":"playback","p":{state,position,at,by,seq},"o"?:origin}``,
``{"k":"control","mode","host_id","seq"}``, ``{"k":"deleted"}``,
``{"k":"ready","u":user,"s":state,"r":rtt,"m":media_seq,"o":origin}``,
``{"k":"queue","q":{items,index,movie_id,media_seq,seq},"p":playback|null,"o":origin}``.
``{"k":"ready_query","o":origin}`` (an instance starts serving the room and asks for the
ready states), ``{"k":"ready_fill","s":{user:[state,media_seq,rtt]},"o":origin}`` (the
answer: the states of the answering instance's members, which fill only what a board
lacks). ``o`` names the instance that made the change: it is the one that checks the ready
gate when the event comes back (``sync``).
``{"k":"managed","r":Roles,"t":title,"v":visibility,"c":capacity,"a":action,"u":user,"b":by,
"until":ms,"upto":seq}`` (the room's moderation state and settings after a change, and the
change's announcement; ``moderation``), ``{"k":"reaction","r":Reaction,"ms":message_seq}``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from maria.rooms.playback import Playback, state_of
from maria.rooms.queue import Entry, Queue
from maria.rooms.roles import Roles
from maria.rooms.views import Member


class BadEvent(ValueError):
    """A broker message that is not a room event this version understands."""


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """Stored messages (``Message`` dicts with their ``seq``), in sequence order."""

    messages: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class JoinEvent:
    member: Member


@dataclass(frozen=True, slots=True)
class LeaveEvent:
    user_id: str
    name: str


@dataclass(frozen=True, slots=True)
class PlaybackEvent:
    state: Playback
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class ControlEvent:
    mode: str
    host_id: str | None
    seq: int


@dataclass(frozen=True, slots=True)
class DeletedEvent:
    pass


@dataclass(frozen=True, slots=True)
class ReadyEvent:
    """A member's ready state for media ``media_seq`` (``unknown``: gone), with their
    round trip as the instance holding their socket measured it (0: none yet)."""

    user_id: str
    state: Literal["ready", "buffering", "unknown"]
    rtt: float
    media_seq: int
    origin: str


@dataclass(frozen=True, slots=True)
class ReadyQueryEvent:
    """An instance started serving the room: the others tell it their members' states."""

    origin: str


@dataclass(frozen=True, slots=True)
class ReadyFillEvent:
    """The ready states (state, media_seq, rtt) of the answering instance's members, for
    boards that have none for them (a board's own newer knowledge stands)."""

    states: dict[str, tuple[Literal["ready", "buffering"], int, float]]
    origin: str


@dataclass(frozen=True, slots=True)
class QueueEvent:
    """The queue after a change, and the playback if the media changed with it."""

    queue: Queue
    playback: Playback | None
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class ManagedEvent:
    """The room's moderation state and settings as of ``roles.seq`` (newest wins), and what
    changed them: ``action`` (``kick``, ``mute``, ... ; None for a settings change or a
    resync) by ``by`` on ``user_id``. A kick bans until ``until`` (unix ms); a clear removed
    the messages up to ``upto`` (their ``seq``). Kicks and clears take effect even when a
    newer state arrived first."""

    roles: Roles
    title: str | None
    visibility: str
    capacity: int | None
    action: str | None = None
    user_id: str | None = None
    by: str | None = None
    until: int | None = None
    upto: int | None = None


@dataclass(frozen=True, slots=True)
class ReactionEvent:
    """A stored reaction (the ``reaction`` frame's fields) and, on a message, that
    message's ``seq`` (a clear takes the reactions on the messages it removes)."""

    reaction: dict[str, Any]
    message_seq: int | None = None


RoomEvent = (
    ChatEvent
    | JoinEvent
    | LeaveEvent
    | PlaybackEvent
    | ControlEvent
    | DeletedEvent
    | ReadyEvent
    | ReadyQueryEvent
    | ReadyFillEvent
    | QueueEvent
    | ManagedEvent
    | ReactionEvent
)


def _wire(event: RoomEvent) -> dict[str, Any]:
    if isinstance(event, ChatEvent):
        return {"k": "chat", "m": event.messages}
    if isinstance(event, JoinEvent):
        return {"k": "join", "m": event.member.as_dict()}
    if isinstance(event, LeaveEvent):
        return {"k": "leave", "u": event.user_id, "n": event.name}
    if isinstance(event, PlaybackEvent):
        wire: dict[str, Any] = {"k": "playback", "p": event.state.as_dict()}
        return wire if event.origin is None else {**wire, "o": event.origin}
    if isinstance(event, ControlEvent):
        return {"k": "control", "mode": event.mode, "host_id": event.host_id, "seq": event.seq}
    if isinstance(event, ReadyEvent):
        return {
            "k": "ready",
            "u": event.user_id,
            "s": event.state,
            "r": event.rtt,
            "m": event.media_seq,
            "o": event.origin,
        }
    if isinstance(event, ReadyQueryEvent):
        return {"k": "ready_query", "o": event.origin}
    if isinstance(event, ReadyFillEvent):
        states = {user: list(value) for user, value in event.states.items()}
        return {"k": "ready_fill", "s": states, "o": event.origin}
    if isinstance(event, QueueEvent):
        playback = None if event.playback is None else event.playback.as_dict()
        return {"k": "queue", "q": event.queue.as_dict(), "p": playback, "o": event.origin}
    if isinstance(event, ManagedEvent):
        return {
            "k": "managed",
            "r": event.roles.as_dict(),
            "t": event.title,
            "v": event.visibility,
            "c": event.capacity,
            "a": event.action,
            "u": event.user_id,
            "b": event.by,
            "until": event.until,
            "upto": event.upto,
        }
    if isinstance(event, ReactionEvent):
        return {"k": "reaction", "r": event.reaction, "ms": event.message_seq}
    return {"k": "deleted"}


def encode(room_id: str, event: RoomEvent) -> str:
    return f"{room_id} {json.dumps(_wire(event), separators=(',', ':'), ensure_ascii=False)}"


def room_of(message: str) -> tuple[str, str]:
    """The room a message is about, and the rest of it (not parsed yet)."""
    room_id, _, body = message.partition(" ")
    return room_id, body


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise BadEvent(f"{what} must be a string")
    return value


def _int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadEvent(f"{what} must be an integer")
    return value


def _opt_str(value: object, what: str) -> str | None:
    return None if value is None else _str(value, what)


def _opt_int(value: object, what: str) -> int | None:
    return None if value is None else _int(value, what)


def _ids(value: object, what: str) -> frozenset[str]:
    if not isinstance(value, list):
        raise BadEvent(f"{what} must be a list")
    return frozenset(_str(item, what) for item in value)


def _roles(value: object) -> Roles:
    if not isinstance(value, dict):
        raise BadEvent("roles must be an object")
    locked = value.get("chat_locked")
    if not isinstance(locked, bool):
        raise BadEvent("chat_locked must be a boolean")
    return Roles(
        cohosts=_ids(value.get("cohosts"), "cohosts"),
        muted=_ids(value.get("muted"), "muted"),
        chat_locked=locked,
        seq=_int(value.get("seq"), "seq"),
    )


def _managed(obj: dict[str, Any]) -> ManagedEvent:
    return ManagedEvent(
        roles=_roles(obj.get("r")),
        title=_opt_str(obj.get("t"), "title"),
        visibility=_str(obj.get("v"), "visibility"),
        capacity=_opt_int(obj.get("c"), "capacity"),
        action=_opt_str(obj.get("a"), "action"),
        user_id=_opt_str(obj.get("u"), "user_id"),
        by=_opt_str(obj.get("b"), "by"),
        until=_opt_int(obj.get("until"), "until"),
        upto=_opt_int(obj.get("upto"), "upto"),
    )


def _reaction(obj: dict[str, Any]) -> ReactionEvent:
    reaction = obj.get("r")
    if not isinstance(reaction, dict):
        raise BadEvent("a reaction must be an object")
    for key in ("id", "user_id", "name", "emoji"):
        _str(reaction.get(key), key)
    _int(reaction.get("timestamp"), "timestamp")
    return ReactionEvent(reaction, _opt_int(obj.get("ms"), "ms"))


def _message(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadEvent("a chat message must be an object")
    _int(value.get("seq"), "seq")
    return value


def _number(value: object, what: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise BadEvent(f"{what} must be a finite number")
    return float(value)


def _origin(value: object) -> str | None:
    return None if value is None else _str(value, "origin")


def _playback(value: object) -> Playback:
    if not isinstance(value, dict):
        raise BadEvent("playback must be an object")
    state, position = value.get("state"), value.get("position")
    if state not in ("playing", "paused", "waiting"):
        raise BadEvent("playback state must be playing, paused or waiting")
    if not isinstance(position, int | float) or isinstance(position, bool):
        raise BadEvent("playback position must be a number")
    if not math.isfinite(position):
        raise BadEvent("playback position must be finite")
    by = value.get("by")
    return Playback(
        state=state_of(state),
        position=float(position),
        at=_int(value.get("at"), "at"),
        by=None if by is None else _str(by, "by"),
        seq=_int(value.get("seq"), "seq"),
    )


def _entry(value: object) -> Entry:
    if not isinstance(value, dict):
        raise BadEvent("a queue entry must be an object")
    return Entry(
        _str(value.get("id"), "id"),
        _int(value.get("movie_id"), "movie_id"),
        _str(value.get("added_by"), "added_by"),
    )


def _queue(value: object) -> Queue:
    if not isinstance(value, dict):
        raise BadEvent("queue must be an object")
    items, index = value.get("items"), value.get("index")
    if not isinstance(items, list):
        raise BadEvent("queue items must be a list")
    return Queue(
        items=tuple(_entry(item) for item in items),
        index=None if index is None else _int(index, "index"),
        movie_id=_int(value.get("movie_id"), "movie_id"),
        media_seq=_int(value.get("media_seq"), "media_seq"),
        seq=_int(value.get("seq"), "seq"),
    )


def _fill(obj: dict[str, Any]) -> ReadyFillEvent:
    states = obj.get("s")
    if not isinstance(states, dict):
        raise BadEvent("ready_fill needs states")
    found: dict[str, tuple[Literal["ready", "buffering"], int, float]] = {}
    for user_id, value in states.items():
        if not isinstance(value, list) or len(value) != 3:
            raise BadEvent("a ready state must be [state, media_seq, rtt]")
        state, media_seq, rtt = value
        if state not in ("ready", "buffering"):
            raise BadEvent("ready state must be ready or buffering")
        found[user_id] = (
            "ready" if state == "ready" else "buffering",
            _int(media_seq, "media_seq"),
            _number(rtt, "rtt"),
        )
    return ReadyFillEvent(found, _str(obj.get("o"), "origin"))


def _ready(obj: dict[str, Any]) -> ReadyEvent:
    state = obj.get("s")
    if state not in ("ready", "buffering", "unknown"):
        raise BadEvent("ready state must be ready, buffering or unknown")
    return ReadyEvent(
        _str(obj.get("u"), "u"),
        "ready" if state == "ready" else "buffering" if state == "buffering" else "unknown",
        _number(obj.get("r"), "rtt"),
        _int(obj.get("m"), "media_seq"),
        _str(obj.get("o"), "origin"),
    )


def decode(body: str) -> RoomEvent:
    """The event in the JSON part of a message (see ``room_of``)."""
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError):
        raise BadEvent("not JSON") from None
    if not isinstance(obj, dict):
        raise BadEvent("not an object")
    kind = obj.get("k")
    if kind == "chat":
        messages = obj.get("m")
        if not isinstance(messages, list):
            raise BadEvent("chat needs a list of messages")
        return ChatEvent([_message(m) for m in messages])
    if kind == "join":
        m = obj.get("m")
        if not isinstance(m, dict):
            raise BadEvent("join needs a member")
        return JoinEvent(
            Member(
                _str(m.get("user_id"), "user_id"),
                _str(m.get("name"), "name"),
                _int(m.get("since"), "since"),
            )
        )
    if kind == "leave":
        return LeaveEvent(_str(obj.get("u"), "u"), str(obj.get("n") or ""))
    if kind == "playback":
        return PlaybackEvent(_playback(obj.get("p")), _origin(obj.get("o")))
    if kind == "control":
        host_id = obj.get("host_id")
        return ControlEvent(
            _str(obj.get("mode"), "mode"),
            None if host_id is None else _str(host_id, "host_id"),
            _int(obj.get("seq"), "seq"),
        )
    if kind == "deleted":
        return DeletedEvent()
    if kind == "ready":
        return _ready(obj)
    if kind == "ready_query":
        return ReadyQueryEvent(_str(obj.get("o"), "origin"))
    if kind == "ready_fill":
        return _fill(obj)
    if kind == "queue":
        playback = obj.get("p")
        return QueueEvent(
            _queue(obj.get("q")),
            None if playback is None else _playback(playback),
            _origin(obj.get("o")),
        )
    if kind == "managed":
        return _managed(obj)
    if kind == "reaction":
        return _reaction(obj)
    raise BadEvent(f"unknown kind {str(kind)[:40]!r}")
