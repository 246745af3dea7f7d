"""Request and response bodies of the rooms endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from maria import examples as ex
from maria.fields import JsonInteger, Trimmed
from maria.rooms.models import MAX_MOVIE_ID, MAX_TITLE
from maria.rooms.playback import MAX_POSITION
from maria.rooms.queue import MAX_QUEUE, Queue
from maria.rooms.views import Member, RoomView

Title = Annotated[str, Trimmed(MAX_TITLE)]
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
