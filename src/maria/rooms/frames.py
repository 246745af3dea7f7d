"""The room WebSocket's frames as data: one pydantic model per frame type and direction.

These models are the protocol's single source. ``protocol.parse`` validates every client
frame with them; ``asyncapi`` publishes their JSON Schemas at ``/asyncapi.json``. Server
frames are built as dicts on the hot paths (``protocol``, ``room``), and the tests check
every frame they receive against the published schema of its type. Adding a frame type is
adding a model here (to ``CLIENT_FRAMES`` or ``SERVER_FRAMES``) and its handling.

Client frames are strict (a JSON ``true`` is no number, ``"1"`` is no number) and ignore
unknown fields (forward compatibility); each has a ``type`` literal, the discriminator.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from maria.fields import SPACE, JsonPattern
from maria.rooms.models import MAX_MOVIE_ID, MAX_TEXT
from maria.rooms.playback import MAX_POSITION, Action
from maria.rooms.queue import MAX_QUEUE
from maria.rooms.schemas import QUEUE, MemberOut, MessageOut, PlaybackOut, QueueOut, RoomOut

MAX_TOKEN = 8 * 1024
MAX_USER_ID = 64
MAX_SLUG = 80  # as a list's slug
MAX_CLOCK = 2**53  # unix ms: any clock a client may have, as an exact JS integer

MovieId = Annotated[int, Field(ge=1, le=MAX_MOVIE_ID)]
QueueIndex = Annotated[int, Field(ge=0, lt=MAX_QUEUE)]
Seconds = Annotated[float, Field(ge=0, le=MAX_POSITION, allow_inf_nan=False)]
UnixMs = Annotated[float, Field(ge=0, le=MAX_CLOCK, allow_inf_nan=False)]

ControlMode = Literal["host", "everyone"]
# Reactions: a fixed set (anything else is a ``validation_error``).
Emoji = Literal["👍", "👎", "😂", "😮", "😢", "😡", "❤️", "🔥", "👏", "🎉", "🍿", "💀"]
EMOJI: tuple[str, ...] = get_args(Emoji)
ModerationAction = Literal["kick", "mute", "unmute", "lock", "unlock", "clear", "cohost", "member"]
ErrorCode = Literal[
    "invalid_json",
    "unknown_type",
    "validation_error",
    "unsupported_frame",
    "payload_too_large",
    "forbidden",
    "not_found",
    "conflict",
    "rate_limited",
    "unavailable",
    "invalid_token",
    "token_expired",
]

# -- examples -------------------------------------------------------------------------

_USER = "7b0c1f5e-3c4d-4e8f-9a1b-2c3d4e5f6a7b"
_OTHER = "2e4d6f80-1a3c-4b5d-8e7f-9a0b1c2d3e4f"
_PLAYBACK = {"state": "playing", "position": 754.5, "at": 1733140800123, "by": _USER, "seq": 7}
_MESSAGE = {
    "id": "0193a0c2-5f1e-7c3a-9b2d-4e5f6a7b8c9d",
    "user_id": _USER,
    "name": "Anna",
    "text": "Shall we start at nine?",
    "timestamp": 1733140790456,
    "seq": 42,
}


def _examples(*frames: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(frames)})


# -- client frames --------------------------------------------------------------------

# What ``str.strip`` removes: the whitespace controls (tab to CR, the separators
# U+001C-U+001F, NEL) and the spaces of ``maria.fields``. Chat may carry other controls
# (a newline inside a message), but never NUL.
STRIPPED = "\\u0009-\\u000d\\u001c-\\u001f\\u0085" + SPACE
_EDGE = f"[^\\u0000{STRIPPED}]"
CHAT_PATTERN = f"^[{STRIPPED}]*{_EDGE}(?:[^\\u0000]{{0,{MAX_TEXT - 2}}}{_EDGE})?[{STRIPPED}]*$"


def _refused(rule: str, message: str) -> PydanticCustomError:
    """A refusal whose message follows the field's name (``'text' must ...``)."""
    return PydanticCustomError(rule, message)


def chat_text(raw: str) -> str:
    """Chat text as stored: trimmed, 1-1000 characters, storable everywhere (no NUL, no
    lone surrogate from a ``"\\ud800"`` escape)."""
    text = raw.strip()
    if not 1 <= len(text) <= MAX_TEXT:
        raise _refused("chat_length", f"must be 1-{MAX_TEXT} characters once trimmed")
    if "\x00" in text:
        raise _refused("chat_nul", "must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _refused("chat_unicode", "is not valid Unicode") from None
    return text


class ClientFrameModel(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class ClientAuth(ClientFrameModel):
    """Authenticate: the first frame when neither an `Authorization` header nor the access
    cookie did (within 5 s, else close 4401), and later a fresh token to extend the
    socket's life before its token expires (answered `authenticated`)."""

    model_config = _examples({"type": "auth", "token": "eyJhbGciOiJIUzI1NiIsImtpZCI6Ij…"})

    type: Literal["auth"]
    token: str = Field(max_length=MAX_TOKEN, description="An access token, as in `Bearer`")


class ClientChat(ClientFrameModel):
    """Say something in the room: stored, numbered and sent to every member (the sender
    too) as a `chat` frame."""

    model_config = _examples({"type": "chat", "text": "Shall we start at nine?"})

    type: Literal["chat"]
    text: Annotated[
        str, AfterValidator(chat_text), JsonPattern(CHAT_PATTERN, counts_length=True)
    ] = Field(description="1-1000 characters once trimmed (spaces around are dropped); no NUL")


def _seek_needs_position(schema: dict[str, Any]) -> None:
    schema["if"] = {"properties": {"action": {"const": "seek"}}, "required": ["action"]}
    schema["then"] = {"required": ["position"], "properties": {"position": {"type": "number"}}}
    schema["examples"] = [
        {"type": "playback", "action": "play"},
        {"type": "playback", "action": "seek", "position": 754.5},
        {"type": "playback", "action": "play", "force": True},
    ]


class ClientPlayback(ClientFrameModel):
    """Play, pause or seek (the host, or anyone in `everyone` mode): answered with a
    `playback` frame to every member. A `play` while a member is `buffering` makes the room
    `waiting` until everyone is ready (or `MARIA_ROOM_READY_TIMEOUT` passes, or a `play`
    with `force`); a start is scheduled a little ahead (`at` in the future), the same
    moment for every member."""

    model_config = ConfigDict(json_schema_extra=_seek_needs_position)

    type: Literal["playback"]
    action: Action = Field(description="`seek` keeps playing or paused as it was")
    position: Annotated[float, Field(ge=0, le=MAX_POSITION, allow_inf_nan=False)] | None = Field(
        default=None,
        description="Seconds into the film, 0 to 604800 (7 days); `seek` needs it, `play` "
        "and `pause` default to where the film is now",
    )

    force: bool | None = Field(
        default=None,
        description='With `play`: start even if members are buffering ("play anyway")',
    )

    @model_validator(mode="after")
    def _seek_has_a_position(self) -> ClientPlayback:
        if self.action == "seek" and self.position is None:
            raise _refused("seek_position", "seek needs a 'position'")
        return self


class ClientControl(ClientFrameModel):
    """Who may control playback (the host only)."""

    model_config = _examples({"type": "control", "mode": "everyone"})

    type: Literal["control"]
    mode: ControlMode = Field(description="`host`: the host only; `everyone`: every member")


class ClientHost(ClientFrameModel):
    """Hand the room over to another member who is online (the host only)."""

    model_config = _examples({"type": "host", "user_id": _USER})

    type: Literal["host"]
    user_id: str = Field(min_length=1, max_length=MAX_USER_ID, description="The new host")


class ClientPing(ClientFrameModel):
    """Measure the clock offset: answered at once with `pong` carrying `t0` back and the
    server's time."""

    model_config = _examples({"type": "ping", "t0": 1733140800123.5})

    type: Literal["ping"]
    # An integer stays an integer (the smart union takes the exact type), so the pong
    # carries back exactly what was sent.
    t0: Annotated[
        Annotated[float, Field(allow_inf_nan=False)] | int,
        WithJsonSchema({"type": "number"}),
    ] = Field(description="Any finite number, typically the client's clock in unix ms")


class ClientReady(ClientFrameModel):
    """Whether this member's player has the current film loaded (`ready`) or is still
    loading it (`buffering`): after joining, after every media change (a `queue` frame with
    a new `media_seq` sets everyone to `buffering`) and whenever it stalls. Everyone gets a
    `ready` frame; a `play` waits while anyone is `buffering`."""

    model_config = _examples(
        {"type": "ready", "state": "ready", "movie_id": 326},
        {"type": "ready", "state": "buffering"},
    )

    type: Literal["ready"]
    state: Literal["ready", "buffering"]
    movie_id: MovieId | None = Field(
        default=None,
        description="The film the report is about; a report about another film than the "
        "room's current one is ignored (a late report for the previous one)",
    )


class ClientPosition(ClientFrameModel):
    """Where this member's player is (every ~2 s while playing, and after each correction):
    answered with `drift` only if it is off by more than 0.05 s."""

    model_config = _examples({"type": "position", "position": 754.5, "at": 1733140800123})

    type: Literal["position"]
    position: Seconds = Field(description="Seconds into the film, 0 to 604800")
    at: UnixMs = Field(
        description="Server time (unix ms, the client's clock corrected by the `clock` "
        "offset) at which the player stood at `position`; more than 10 s from the server's "
        "now, it is ignored"
    )


class ClientPong(ClientFrameModel):
    """The answer to the server's `ping`, at once: its `t0` and the client's clock."""

    model_config = _examples({"type": "pong", "t0": 1733140800123, "t1": 1733140800190.5})

    type: Literal["pong"]
    t0: int = Field(ge=0, le=MAX_CLOCK, description="The `ping`'s `t0`, unchanged")
    t1: UnixMs = Field(description="The client's clock (unix ms) when the `ping` arrived")


QueueOp = Literal["add", "add_list", "remove", "move", "next", "previous", "play", "clear"]
# What each operation needs besides ``op``.
QUEUE_FIELDS: dict[str, tuple[str, ...]] = {
    "add": ("movie_id",),
    "add_list": ("slug",),
    "remove": ("index",),
    "move": ("index", "to"),
    "play": ("index",),
}


def _queue_schema(schema: dict[str, Any]) -> None:
    schema["allOf"] = [
        {
            "if": {"properties": {"op": {"const": op}}, "required": ["op"]},
            "then": {"required": list(fields)},
        }
        for op, fields in QUEUE_FIELDS.items()
    ]
    schema["examples"] = [
        {"type": "queue", "op": "add", "movie_id": 326},
        {"type": "queue", "op": "add_list", "slug": "watch-later"},
        {"type": "queue", "op": "move", "index": 3, "to": 0},
        {"type": "queue", "op": "next"},
    ]


class ClientQueue(ClientFrameModel):
    """Change the shared queue (the host, or anyone in `everyone` mode): answered with a
    `queue` frame to every member. `add` appends a film, `add_list` the films of one of
    your lists (oldest first, as many as fit), `remove`/`move` change the order, `next`/
    `previous`/`play` change the media (a paused room stays paused at 0; a playing one
    waits at 0 until every member has loaded the new film), `clear` empties the queue (the
    current film plays on)."""

    model_config = ConfigDict(json_schema_extra=_queue_schema)

    type: Literal["queue"]
    op: QueueOp
    movie_id: MovieId | None = Field(default=None, description="`add`: a Kinopoisk movie id")
    slug: Annotated[str, Field(min_length=1, max_length=MAX_SLUG)] | None = Field(
        default=None, description="`add_list`: the slug of one of your lists"
    )
    index: QueueIndex | None = Field(
        default=None, description="`remove`, `move`, `play`: an entry's index, from 0"
    )
    to: QueueIndex | None = Field(default=None, description="`move`: the index the entry will have")

    @model_validator(mode="after")
    def _has_what_the_op_needs(self) -> ClientQueue:
        for field in QUEUE_FIELDS.get(self.op, ()):
            if getattr(self, field) is None:
                raise _refused("queue_field", f"{self.op} needs a '{field}'")
        return self


UserId = Annotated[str, Field(min_length=1, max_length=MAX_USER_ID)]


class ClientRole(ClientFrameModel):
    """Make a member a co-host (who may control playback and the queue and moderate
    members), or a co-host a member again: the host only. Answered with `moderated` and
    `roles` to everyone."""

    model_config = _examples({"type": "role", "user_id": _USER, "role": "cohost"})

    type: Literal["role"]
    user_id: UserId = Field(description="Someone in the room now, or who has been in it")
    role: Literal["cohost", "member"]


class ClientKick(ClientFrameModel):
    """Remove someone from the room (the host, or a co-host for members): their sockets on
    every instance close with 4403 and they cannot come back for `MARIA_ROOM_KICK_BAN`
    seconds (a co-host kicked is a member again). Answered with `moderated` to everyone."""

    model_config = _examples({"type": "kick", "user_id": _USER})

    type: Literal["kick"]
    user_id: UserId = Field(description="Someone in the room now, or who has been in it")


class ClientMute(ClientFrameModel):
    """Mute or unmute someone (the host, or a co-host for members): a muted member's
    `chat` and `react` are refused with `forbidden`. Answered with `moderated` and `roles`
    to everyone."""

    model_config = _examples({"type": "mute", "user_id": _USER, "muted": True})

    type: Literal["mute"]
    user_id: UserId = Field(description="Someone in the room now, or who has been in it")
    muted: bool


class ClientLock(ClientFrameModel):
    """Lock the chat (only the host and co-hosts may write) or open it again (the host and
    co-hosts). Answered with `moderated` and `roles` to everyone."""

    model_config = _examples({"type": "lock", "locked": True})

    type: Literal["lock"]
    locked: bool


class ClientClear(ClientFrameModel):
    """Delete the room's chat history, and the reactions on its messages (the host and
    co-hosts). Answered with `moderated` (`clear`) to everyone: drop the history shown."""

    model_config = _examples({"type": "clear"})

    type: Literal["clear"]


def _one_target(schema: dict[str, Any]) -> None:
    schema["oneOf"] = [
        {"required": ["message_id"], "properties": {"message_id": {"type": "string"}}},
        {"required": ["position"], "properties": {"position": {"type": "number"}}},
    ]
    schema["examples"] = [
        {"type": "react", "emoji": "🔥", "position": 754.5},
        {"type": "react", "emoji": "😂", "message_id": _MESSAGE["id"]},
    ]


class ClientReact(ClientFrameModel):
    """React to a message of this room (`message_id`) or to a moment of the film
    (`position`): exactly one of the two. Throttled like chat (the same limits, counted on
    their own); refused for a muted member. Answered with `reaction` to everyone."""

    model_config = ConfigDict(json_schema_extra=_one_target)

    type: Literal["react"]
    emoji: Emoji = Field(description="One of the allowed reactions")
    message_id: str | None = Field(
        default=None, min_length=1, max_length=MAX_USER_ID, description="A message of this room"
    )
    position: Annotated[float, Field(ge=0, le=MAX_POSITION, allow_inf_nan=False)] | None = Field(
        default=None, description="Seconds into the film, 0 to 604800"
    )

    @model_validator(mode="after")
    def _exactly_one_target(self) -> ClientReact:
        if (self.message_id is None) == (self.position is None):
            raise _refused(
                "react_target", "a reaction needs exactly one of 'message_id' and 'position'"
            )
        return self


CLIENT_FRAMES: tuple[type[ClientFrameModel], ...] = (
    ClientAuth,
    ClientChat,
    ClientPlayback,
    ClientControl,
    ClientHost,
    ClientPing,
    ClientReady,
    ClientPosition,
    ClientPong,
    ClientQueue,
    ClientRole,
    ClientKick,
    ClientMute,
    ClientLock,
    ClientClear,
    ClientReact,
)
# A parsed client frame: one of these (``ClientFrame`` is how pydantic tells which).
AnyClientFrame = (
    ClientAuth
    | ClientChat
    | ClientPlayback
    | ClientControl
    | ClientHost
    | ClientPing
    | ClientReady
    | ClientPosition
    | ClientPong
    | ClientQueue
    | ClientRole
    | ClientKick
    | ClientMute
    | ClientLock
    | ClientClear
    | ClientReact
)
ClientFrame = Annotated[AnyClientFrame, Field(discriminator="type")]

# -- server frames --------------------------------------------------------------------


def _absent_when_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # left out when there is none, never null


_ROLES = {"cohosts": [_USER], "muted": [], "chat_locked": False, "seq": 3}
_REACTION = {
    "id": "0193a0c2-6a2b-7c3a-9b2d-4e5f6a7b8c9d",
    "user_id": _USER,
    "name": "Anna",
    "emoji": "🔥",
    "position": 754.5,
    "timestamp": 1733140795000,
}


class RolesOut(BaseModel):
    model_config = _examples(_ROLES)

    cohosts: list[str] = Field(description="Co-hosts: control playback and the queue, moderate")
    muted: list[str] = Field(description="Members who may neither chat nor react")
    chat_locked: bool = Field(description="Only the host and co-hosts may chat")
    seq: int = Field(description="Grows with every change: drop states with a smaller one")


class ReactionOut(BaseModel):
    model_config = _examples(_REACTION)

    id: str
    user_id: str
    name: str
    emoji: Emoji
    message_id: str | SkipJsonSchema[None] = Field(
        default=None,
        description="On a message of the room (absent for a timeline reaction)",
        json_schema_extra=_absent_when_default,
    )
    position: float | SkipJsonSchema[None] = Field(
        default=None,
        description="On the timeline, seconds into the film (absent for a message's)",
        json_schema_extra=_absent_when_default,
    )
    timestamp: int = Field(description="Unix ms")


class ServerWelcome(BaseModel):
    """The first frame after joining: a snapshot of the room, consistent with every frame
    that follows it (also after a reconnect: it puts the client back in step)."""

    model_config = _examples(
        {
            "type": "welcome",
            "room": {
                "id": "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
                "movie_id": 301,
                "title": "Friday film",
                "host_id": _USER,
                "control": "host",
                "created_at": "2026-12-02T12:00:00.123456Z",
                "playback": _PLAYBACK,
                "visibility": "public",
                "capacity": None,
            },
            "members": [{"user_id": _USER, "name": "Anna", "since": 1733140700000}],
            "playback": _PLAYBACK,
            "history": [_MESSAGE],
            "host_id": _USER,
            "control": "host",
            "user_id": _USER,
            "server_time": 1733140800500,
            "queue": QUEUE,
            "ready": {_USER: "ready"},
            "roles": _ROLES,
            "reactions": [_REACTION],
        }
    )

    type: Literal["welcome"]
    room: RoomOut
    members: list[MemberOut] = Field(description="Online now (on any instance), longest first")
    playback: PlaybackOut
    history: list[MessageOut] = Field(description="The last 50 messages, oldest first")
    host_id: str | None
    control: ControlMode
    user_id: str = Field(description="Who this socket is signed in as")
    server_time: int = Field(description="The server's clock, unix ms")
    queue: QueueOut
    ready: dict[str, Literal["ready", "buffering"]] = Field(
        description="The members' ready states by user id (members without one are absent: "
        "they hold no start). Report your own with `ready` after joining"
    )
    roles: RolesOut = Field(description="Co-hosts, muted members, the chat lock")
    reactions: list[ReactionOut] = Field(description="The last 100 reactions, oldest first")


class ServerChat(MessageOut):
    """A chat message, in the room's one order (`seq`); the sender gets theirs too."""

    model_config = _examples({"type": "chat", **_MESSAGE})

    type: Literal["chat"]


class ServerPresence(BaseModel):
    """Someone came online in the room or left it (a reconnect within the grace shows
    neither)."""

    model_config = _examples(
        {"type": "presence", "event": "join", "user_id": _USER, "name": "Anna"}
    )

    type: Literal["presence"]
    event: Literal["join", "leave"]
    user_id: str
    name: str


class ServerPlayback(PlaybackOut):
    """The playback state after a change; drop states with a smaller `seq`."""

    model_config = _examples({"type": "playback", **_PLAYBACK})

    type: Literal["playback"]


class ServerControl(BaseModel):
    """Who controls playback, and who hosts (after `control`, `host` or a host gone)."""

    model_config = _examples({"type": "control", "mode": "everyone", "host_id": _USER})

    type: Literal["control"]
    mode: ControlMode
    host_id: str | None


class ServerPong(BaseModel):
    """The answer to `ping`."""

    model_config = _examples({"type": "pong", "t0": 1733140800123.5, "server_time": 1733140800140})

    type: Literal["pong"]
    t0: Annotated[int | float, WithJsonSchema({"type": "number"})] = Field(
        description="The ping's `t0`, unchanged"
    )
    server_time: int = Field(description="The server's clock when it answered, unix ms")


class ServerAuthenticated(BaseModel):
    """The answer to an `auth` frame on a live socket: it now lives until `expires_at`."""

    model_config = _examples({"type": "authenticated", "user_id": _USER, "expires_at": 1733141700})

    type: Literal["authenticated"]
    user_id: str
    expires_at: int = Field(description="The new token's `exp`, unix seconds")


class ServerError(BaseModel):
    """A frame was refused or failed; the socket carries on (`x-error-codes` in the
    AsyncAPI document lists the codes)."""

    model_config = _examples(
        {"type": "error", "code": "validation_error", "message": "'text' is required"},
        {
            "type": "error",
            "code": "rate_limited",
            "message": "At most 5 messages per 2 s",
            "retry_after": 2,
        },
    )

    type: Literal["error"]
    code: ErrorCode
    message: str = Field(description="A sentence for people; names the field at fault")
    retry_after: int | SkipJsonSchema[None] = Field(
        default=None,
        description="With `rate_limited`: seconds until it is allowed again",
        json_schema_extra=_absent_when_default,
    )


class ServerReady(BaseModel):
    """A member's ready state changed. `unknown`: they left, or their last socket closed
    (they hold no start). A media change sets everyone to `buffering` without a frame each
    (the `queue` frame's new `media_seq` says so); a presence `leave` ends a state too."""

    model_config = _examples({"type": "ready", "user_id": _USER, "state": "buffering"})

    type: Literal["ready"]
    user_id: str
    state: Literal["ready", "buffering", "unknown"]


class ServerQueue(QueueOut):
    """The shared queue after a change; drop queues with a smaller `seq`. A new `media_seq`
    is a new film: load it (report `buffering`, then `ready`)."""

    model_config = _examples({"type": "queue", **QUEUE})

    type: Literal["queue"]


class ServerPing(BaseModel):
    """The server measures the clock: answer at once with `pong` (`t0` back, `t1` your
    clock). Sent after the welcome, three more times in the first ~2 s, then every 15 s."""

    model_config = _examples({"type": "ping", "t0": 1733140800123})

    type: Literal["ping"]
    t0: int = Field(description="The server's clock when it sent the ping, unix ms")


class ServerClock(BaseModel):
    """The server's estimate of this socket's clock, whenever it changes: of the last 8
    `pong` samples, the one with the lowest round trip (as NTP does)."""

    model_config = _examples({"type": "clock", "rtt": 38.0, "offset": -412.5})

    type: Literal["clock"]
    rtt: float = Field(description="Round trip, ms")
    offset: float = Field(
        description="The client's clock minus the server's, ms: server time = client time - offset"
    )


class ServerDrift(BaseModel):
    """This member's player is off by more than 0.05 s (after a `position` report).
    Correct it as Jellyfin's SyncPlay does: from 0.4 s on, seek to the live position
    (`position` + the time since `at`); below, play at rate `1 - delta / 2` for 2 s, then
    at 1 again."""

    model_config = _examples(
        {"type": "drift", "delta": 0.62, "position": 754.5, "at": 1733140800123}
    )

    type: Literal["drift"]
    delta: float = Field(description="Seconds ahead (negative: behind) of the room")
    position: float = Field(description="Where the player should have been at `at`, seconds")
    at: float = Field(description="The report's `at`, server unix ms")


class ServerRoles(RolesOut):
    """The room's moderation state after a change (a role, a mute, the chat lock); drop
    states with a smaller `seq`."""

    model_config = _examples({"type": "roles", **_ROLES})

    type: Literal["roles"]


class ServerModerated(BaseModel):
    """What a host or co-host did, announced to everyone (the state it leaves is in the
    `roles` frame that follows a role, mute or lock). `clear`: drop the chat history shown
    and the reactions on its messages."""

    model_config = _examples(
        {"type": "moderated", "action": "mute", "user_id": _USER, "by": _OTHER},
        {"type": "moderated", "action": "clear", "by": _USER},
    )

    type: Literal["moderated"]
    action: ModerationAction = Field(
        description="`cohost`/`member`: a role change; `lock`/`unlock`: the chat lock"
    )
    user_id: str | SkipJsonSchema[None] = Field(
        default=None,
        description="Whom it was done to (absent for `lock`, `unlock` and `clear`)",
        json_schema_extra=_absent_when_default,
    )
    by: str = Field(description="The host or co-host who did it")


class ServerReaction(ReactionOut):
    """Someone reacted (the sender gets theirs too)."""

    model_config = _examples({"type": "reaction", **_REACTION})

    type: Literal["reaction"]


SERVER_FRAMES: tuple[type[BaseModel], ...] = (
    ServerWelcome,
    ServerChat,
    ServerPresence,
    ServerPlayback,
    ServerControl,
    ServerPong,
    ServerAuthenticated,
    ServerError,
    ServerReady,
    ServerQueue,
    ServerPing,
    ServerClock,
    ServerDrift,
    ServerRoles,
    ServerModerated,
    ServerReaction,
)
