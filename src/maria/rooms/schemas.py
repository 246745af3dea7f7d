"""Request and response bodies of the rooms endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator
from pydantic.json_schema import SkipJsonSchema

from maria import examples as ex
from maria.fields import JsonInteger, Trimmed
from maria.rooms.models import MAX_MOVIE_ID, MAX_TITLE
from maria.rooms.playback import MAX_POSITION
from maria.rooms.queue import MAX_QUEUE, Queue
from maria.rooms.views import Member, RoomView

Title = Annotated[str, Trimmed(MAX_TITLE)]


def _absent_when_default(schema: dict[str, Any]) -> None:
    """No ``default`` in the schema (the description says it): generated clients' types
    then keep the field optional in request bodies."""
    schema.pop("default", None)


Visibility = Literal["public", "private"]
# Above any MARIA_ROOM_CAPACITY (which caps a room's own capacity; the service checks it).
MAX_CAPACITY = 100_000
Capacity = Annotated[int, Strict(), Ge(1), Le(MAX_CAPACITY), JsonInteger]
MIN_INVITE_TTL = 60
MAX_INVITE_TTL = 30 * 86_400
MAX_INVITE_TOKEN = 200
PLAYBACK: dict[str, Any] = {
    "state": "playing",
    "position": 1312.5,
    "at": 1773522161500,
    "by": ex.USER_ID,
    "seq": 7,
}
ROOM: dict[str, Any] = {
    "id": ex.ROOM_ID,
    "movie_id": ex.SHAWSHANK,
    "title": "Friday night",
    "host_id": ex.USER_ID,
    "control": "host",
    "created_at": ex.CREATED_AT,
    "playback": PLAYBACK,
    "visibility": "private",
    "capacity": 12,
}
INVITE_TOKEN = (
    "i1.6f1c2b9e4d3a4f5e8b7c6d5e4f3a2b1c.1773608405.Xo3m1Q8zVb2kL5nR7tY9uW0pA4sD6fG8hJ1kL3zX5cV"
)
INVITE: dict[str, Any] = {
    "id": "6f1c2b9e-4d3a-4f5e-8b7c-6d5e4f3a2b1c",
    "token": INVITE_TOKEN,
    "url": f"https://kinoway.example/rooms/{ex.ROOM_ID}?invite={INVITE_TOKEN}",
    "expires_at": "2026-03-15T19:40:05Z",
    "single_use": True,
    "created_by": ex.USER_ID,
    "used_at": None,
    "revoked_at": None,
}
QUEUE: dict[str, Any] = {
    "items": [
        {
            "id": "5b1d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
            "movie_id": ex.SHAWSHANK,
            "added_by": ex.USER_ID,
        },
        {
            "id": "6c2e3d4f-5a6b-4c7d-9e8f-0a1b2c3d4e5f",
            "movie_id": ex.GREEN_MILE,
            "added_by": ex.FRIEND_ID,
        },
    ],
    "index": 0,
    "movie_id": ex.SHAWSHANK,
    "media_seq": 1,
    "seq": 4,
}
MEMBERS: list[Any] = [
    {"user_id": ex.USER_ID, "name": ex.NAME, "since": 1773521000000},
    {"user_id": ex.FRIEND_ID, "name": "Konstantin Levin", "since": 1773521042000},
]


class RoomCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"movie_id": ex.SHAWSHANK, "title": "Friday night"}]},
    )

    movie_id: Annotated[int, JsonInteger] = Field(
        strict=True, ge=1, le=MAX_MOVIE_ID, description="A Kinopoisk movie id"
    )
    title: Title | None = None
    visibility: Visibility = Field(
        default="public",
        description="`public` (the default): anyone signed in with the link; `private`: the "
        "host, admins, co-hosts and those who redeemed an invite",
        json_schema_extra=_absent_when_default,  # optional in generated clients' types
    )
    capacity: Capacity | None = Field(
        default=None,
        description="Most users present at once, 1 to `MARIA_ROOM_CAPACITY` (the default)",
    )


class RoomUpdate(BaseModel):
    """Only the fields sent change; `null` clears a title and gives the room the server's
    capacity again."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"visibility": "private", "capacity": 12}]},
    )

    title: Title | None = None
    visibility: Visibility | SkipJsonSchema[None] = Field(
        default=None, json_schema_extra=_absent_when_default
    )
    capacity: Capacity | None = Field(
        default=None, description="1 to `MARIA_ROOM_CAPACITY`; `null`: that"
    )

    @field_validator("visibility", mode="before")
    @classmethod
    def _visibility_is_no_null(cls, value: object) -> object:
        if value is None:  # absent keeps it; null is no visibility
            raise ValueError("Input should be 'public' or 'private'")
        return value


class PlaybackOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [PLAYBACK]})

    state: Literal["playing", "paused", "waiting"] = Field(
        description="`waiting`: a play held until every member is ready (the ready gate)"
    )
    position: float = Field(
        ge=0, le=MAX_POSITION, description="Seconds into the film at server time `at`"
    )
    at: int = Field(
        description="Server time (unix ms) at which `position` holds; a start is scheduled "
        "a little ahead: until `at` the film stands at `position`, then it advances"
    )
    by: str | None = Field(description="Who made the last change")
    seq: int = Field(description="Grows by one per change: drop states with a smaller one")


class RoomOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ROOM]})

    id: str
    movie_id: int
    title: str | None
    host_id: str | None
    control: Literal["host", "everyone"] = Field(description="Who may control playback")
    created_at: datetime
    playback: PlaybackOut
    visibility: Visibility
    capacity: int | None = Field(
        description="Most users present at once; `null`: the server's `MARIA_ROOM_CAPACITY`"
    )

    @classmethod
    def of(cls, view: RoomView) -> RoomOut:
        return cls(
            id=view.id,
            movie_id=view.movie_id,
            title=view.title,
            host_id=view.host_id,
            control="everyone" if view.control == "everyone" else "host",
            created_at=view.created_at,
            playback=PlaybackOut(**view.playback.as_dict()),
            visibility="private" if view.visibility == "private" else "public",
            capacity=view.capacity,
        )


class MemberOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": MEMBERS[:1]})

    user_id: str
    name: str
    since: int = Field(description="Unix ms since when the member is in the room")

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        return cls(user_id=member.user_id, name=member.name, since=member.since)


class QueueEntryOut(BaseModel):
    id: str = Field(description="The entry's own id (a film may be queued twice)")
    movie_id: int = Field(description="A Kinopoisk movie id")
    added_by: str = Field(description="Who queued it")


class QueueOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [QUEUE]})

    items: list[QueueEntryOut] = Field(
        max_length=MAX_QUEUE, description=f"The queue, in order (at most {MAX_QUEUE})"
    )
    index: int | None = Field(description="The entry playing now, or null")
    movie_id: int = Field(description="The current media: the room's film")
    media_seq: int = Field(
        description="Grows with every media change (`next`, `previous`, `play`); a new one "
        "sets every member present to `buffering`"
    )
    seq: int = Field(description="Grows by one per change: drop queues with a smaller one")

    @classmethod
    def of(cls, queue: Queue) -> QueueOut:
        return cls.model_validate(queue.as_dict())


class RoomDetail(RoomOut):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**ROOM, "members": MEMBERS, "queue": QUEUE}]}
    )

    members: list[MemberOut] = Field(description="Online now (on any instance), longest first")
    queue: QueueOut = Field(description="The shared queue")


class MessageOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": ex.MESSAGE_ID,
                    "user_id": ex.FRIEND_ID,
                    "name": "Konstantin Levin",
                    "text": "Hope is a good thing, maybe the best of things.",
                    "timestamp": 1773522170250,
                    "seq": 42,
                }
            ]
        }
    )

    id: str
    user_id: str
    name: str
    text: str
    timestamp: int = Field(description="Unix ms, the same for every receiver")
    seq: int = Field(description="Place in the room's one order")


class RoomEntry(RoomOut):
    """A room in the caller's list, with the caller's place in it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**ROOM, "my_role": "host", "last_joined_at": ex.LATER}]}
    )

    my_role: Literal["host", "cohost", "member"]
    last_joined_at: datetime | None = Field(description="When the caller last entered it")

    @classmethod
    def entry(cls, view: RoomView, my_role: str, last_joined_at: datetime | None) -> RoomEntry:
        return cls(
            **RoomOut.of(view).model_dump(),
            my_role="host" if my_role == "host" else "cohost" if my_role == "cohost" else "member",
            last_joined_at=last_joined_at,
        )


class InviteCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"expires_in": 86_400, "single_use": True}]},
    )

    expires_in: Annotated[int, JsonInteger] = Field(
        default=86_400,
        strict=True,
        ge=MIN_INVITE_TTL,
        le=MAX_INVITE_TTL,
        description="Seconds the invite is valid: 60 to 2592000 (30 days); 86400 by default",
        json_schema_extra=_absent_when_default,
    )
    single_use: bool = Field(
        default=False,
        strict=True,
        description="Redeemable by one user only (false by default)",
        json_schema_extra=_absent_when_default,
    )


class InviteOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [INVITE]})

    id: str
    token: str = Field(description="Signed; what `POST /rooms/{id}/join` takes")
    url: str = Field(description="`MARIA_PUBLIC_URL/rooms/{id}?invite=<token>`")
    expires_at: datetime
    single_use: bool
    created_by: str | None
    used_at: datetime | None = Field(description="A single-use invite: when it was redeemed")
    revoked_at: datetime | None


class InviteRedeem(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"invite": INVITE_TOKEN}]}
    )

    invite: str = Field(min_length=1, max_length=MAX_INVITE_TOKEN, description="The token")
