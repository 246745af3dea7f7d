"""HTTP and WebSocket endpoints of watch-together rooms (``/api/v1/rooms``). Thin: parse,
call the service or the hub, answer; the docstrings are the OpenAPI descriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, WebSocket, status
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send

from maria.deps import ClaimsDep, ServicesDep
from maria.errors import RateLimited
from maria.rooms import service, socket
from maria.rooms.schemas import MemberOut, MessageOut, RoomCreate, RoomDetail, RoomOut
from maria.services import Services

router = APIRouter(prefix="/api/v1/rooms", tags=["rooms"])

CREATE_LIMIT = 30  # rooms per user ...
CREATE_WINDOW = 600  # ... per 10 minutes

SOCKET_DOC = """
**WebSocket** `/api/v1/rooms/{id}/ws`. Authenticate with the access cookie (pages of an
allowed origin) or a first frame `{"type":"auth","token":"<access token>"}` within 5 s;
otherwise close 4401. Frames are JSON objects with a `type`:

- client: `chat {text}`, `playback {action: play|pause|seek, position?}`,
  `control {mode: host|everyone}`, `host {user_id}`, `ping {t0}`, `auth {token}` (refresh).
- server: `welcome {room, members, playback, history, host_id, control, user_id,
  server_time}`, `chat` (a Message), `presence {event: join|leave, user_id, name}`,
  `playback {state, position, at, by, seq}`, `control {mode, host_id}`,
  `pong {t0, server_time}`, `authenticated {user_id, expires_at}`, `error {code, message}`.

Error codes: `invalid_json`, `unknown_type`, `validation_error`, `unsupported_frame`
(binary), `payload_too_large` (> 16 KiB), `forbidden`, `not_found`, `rate_limited`
(with `retry_after` s), `unavailable`, `invalid_token`, `token_expired`. Close codes:
4401 unauthenticated / token expired / session revoked, 4404 unknown room, 4410 room
deleted, 1008 client too slow to read, 1001 server going away. The server sends
WebSocket pings (uvicorn: every 20 s); a socket that does not answer within 20 s is dropped.
"""


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RoomOut)
@router.post(
    "/", status_code=status.HTTP_201_CREATED, response_model=RoomOut, include_in_schema=False
)
async def create_room(body: RoomCreate, claims: ClaimsDep, services: ServicesDep) -> RoomOut:
    """Create a room for a film; the caller is its host."""
    count, retry = await services.counters.hit(f"room-create:{claims.sub}", CREATE_WINDOW)
    if count > CREATE_LIMIT:
        raise RateLimited(retry, "Too many rooms created; try again later")
    async with services.sessionmaker() as db, db.begin():
        view = await service.create_room(
            db, host_id=claims.sub, movie_id=body.movie_id, title=body.title
        )
    return RoomOut.of(view)


@router.get("/{room_id}", response_model=RoomDetail, description=SOCKET_DOC)
async def get_room(room_id: str, claims: ClaimsDep, services: ServicesDep) -> RoomDetail:
    """A room, its playback state and who is online in it."""
    async with services.sessionmaker() as db:
        view = await service.get_room(db, room_id)
    members = await services.rooms.members(room_id)
    return RoomDetail(**RoomOut.of(view).model_dump(), members=[MemberOut.of(m) for m in members])


@router.get("/{room_id}/messages", response_model=list[MessageOut])
async def list_messages(
    room_id: str,
    claims: ClaimsDep,
    services: ServicesDep,
    before: Annotated[
        str | None, Query(max_length=64, description="A message id: page from before it")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
) -> list[MessageOut]:
    """Chat history, oldest first (newest last); page back with `before` = the first id."""
    async with services.sessionmaker() as db:
        messages = await service.list_messages(db, room_id, before=before, limit=limit)
    return [MessageOut(**m) for m in messages]


@router.delete("/{room_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_room(room_id: str, claims: ClaimsDep, services: ServicesDep) -> Response:
    """Delete a room (host or admin); its open sockets are closed with code 4410."""
    async with services.sessionmaker() as db, db.begin():
        await service.delete_room(db, room_id, user_id=claims.sub, is_admin=claims.role == "admin")
    await services.rooms.deleted(room_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class RoomSocket:
    """The room socket: a plain ASGI endpoint, without FastAPI's per-call dependency
    machinery (whose exit stacks and frames every idle socket would otherwise keep), and
    with the server's own ``send``, which may take ready frames (see ``wire``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        services: Services = websocket.app.state.services
        await socket.serve(websocket, send, scope["path_params"]["room_id"], services)


router.routes.append(
    WebSocketRoute(router.prefix + "/{room_id}/ws", RoomSocket(), name="room_socket")
)
