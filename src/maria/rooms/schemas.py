"""Request and response bodies of the rooms endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from maria import examples as ex
from maria.fields import JsonInteger, Trimmed
from maria.rooms.models import MAX_MOVIE_ID, MAX_TITLE
from maria.rooms.playback import MAX_POSITION
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

    state: Literal["playing", "paused"]
    position: float = Field(
        ge=0, le=MAX_POSITION, description="Seconds into the film at server time `at`"
    )
    at: int = Field(description="Server time (unix ms) at which `position` holds")
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


class RoomDetail(RoomOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{**ROOM, "members": MEMBERS}]})

    members: list[MemberOut] = Field(description="Online now (on any instance), longest first")


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
