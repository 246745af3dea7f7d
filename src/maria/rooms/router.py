"""HTTP and WebSocket endpoints of watch-together rooms (``/api/v1/rooms``). Thin: parse,
call the service (or, for sockets, ``socket.serve``), answer; the docstrings are the OpenAPI
descriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, WebSocket, status
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send

from maria.errors import BadCursor, Forbidden, NotFound, RateLimited
from maria.fields import ID_PATTERN
from maria.http.deps import IdentityDep, service
from maria.http.openapi import doc
from maria.rooms import socket, store
from maria.rooms.schemas import MemberOut, MessageOut, RoomCreate, RoomDetail, RoomOut
from maria.rooms.service import RoomsService

router = APIRouter(prefix="/api/v1/rooms", tags=["rooms"])
Rooms = Annotated[RoomsService, service("rooms")]
NO_ROOM = NotFound("No such room")

SOCKET_DOC = """
**WebSocket** `/api/v1/rooms/{id}/ws`. Authenticate with the access cookie (pages of an
allowed origin) or a first frame `{"type":"auth","token":"<access token>"}` within 5 s;
otherwise close 4401. Frames are JSON objects with a `type`:

- client: `chat {text}`, `playback {action: play|pause|seek, position?}` (seconds, 0 to
  604800: 7 days),
  `control {mode: host|everyone}`, `host {user_id}`, `ping {t0}`, `auth {token}` (refresh).
- server: `welcome {room, members, playback, history, host_id, control, user_id,
  server_time}`, `chat` (a Message), `presence {event: join|leave, user_id, name}`,
  `playback {state, position, at, by, seq}`, `control {mode, host_id}`,
  `pong {t0, server_time}`, `authenticated {user_id, expires_at}`, `error {code, message}`.

Error codes: `invalid_json`, `unknown_type`, `validation_error`, `unsupported_frame`
(binary), `payload_too_large` (> 16 KiB), `forbidden`, `not_found`, `conflict` (playback
changing too fast: try again), `rate_limited`
(with `retry_after` s), `unavailable`, `invalid_token`, `token_expired`. Close codes:
4401 unauthenticated / token expired / session revoked, 4404 unknown room, 4410 room
deleted, 1008 client too slow to read, 1012 server restarting (reconnect), 1013 try again
later (database away). The server sends WebSocket pings (uvicorn: every 20 s); a socket that
does not answer within 20 s is dropped.
"""


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RoomOut,
    **doc(
        "createRoom",
        "Create a watch-together room",
        RateLimited(600, "Too many rooms created; try again later"),
    ),
)
@router.post(
    "/", status_code=status.HTTP_201_CREATED, response_model=RoomOut, include_in_schema=False
)
async def create_room(body: RoomCreate, identity: IdentityDep, rooms: Rooms) -> RoomOut:
    """Create a room for a film; the caller is its host (at most 30 per 10 minutes)."""
    view = await rooms.create(identity.user_id, movie_id=body.movie_id, title=body.title)
    return RoomOut.of(view)


@router.get(
    "/{room_id}",
    response_model=RoomDetail,
    description=SOCKET_DOC,
    **doc("getRoom", "Get a room and who is in it", NO_ROOM),
)
async def get_room(room_id: str, identity: IdentityDep, rooms: Rooms) -> RoomDetail:
    """A room, its playback state and who is online in it."""
    view, members = await rooms.get(room_id)
    return RoomDetail(**RoomOut.of(view).model_dump(), members=[MemberOut.of(m) for m in members])


@router.get(
    "/{room_id}/messages",
    response_model=list[MessageOut],
    **doc(
        "listRoomMessages",
        "List a room's chat history",
        NO_ROOM,
        BadCursor("'before' is not the id of a message in this room", param="before"),
    ),
)
async def list_messages(
    room_id: str,
    identity: IdentityDep,
    rooms: Rooms,
    before: Annotated[
        str | None,
        Query(pattern=ID_PATTERN, description="A message id: page from before it"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=store.MAX_PAGE)] = 50,
) -> list[MessageOut]:
    """Chat history, oldest first (newest last); page back with `before` = the first id."""
    messages = await rooms.messages(room_id, before=before, limit=limit)
    return [MessageOut(**m) for m in messages]


@router.delete(
    "/{room_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    **doc(
        "deleteRoom",
        "Delete a room",
        NO_ROOM,
        Forbidden("Only the host or an admin can delete a room"),
    ),
)
async def delete_room(room_id: str, identity: IdentityDep, rooms: Rooms) -> Response:
    """Delete a room (host or admin); its open sockets are closed with code 4410."""
    await rooms.delete(room_id, identity)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class RoomSocket:
    """The room socket: a plain ASGI endpoint, without FastAPI's per-call dependency
    machinery (whose exit stacks and frames every idle socket would otherwise keep), and
    with the server's own ``send``, which may take ready frames (see ``wire``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        services = websocket.app.state.services
        await socket.serve(
            websocket,
            send,
            scope["path_params"]["room_id"],
            hub=services.rooms.hub,
            users=services.users,
            auth_wait=services.settings.room_auth_timeout,
        )


router.routes.append(
    WebSocketRoute(router.prefix + "/{room_id}/ws", RoomSocket(), name="room_socket")
)
