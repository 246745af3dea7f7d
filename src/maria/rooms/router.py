"""HTTP and WebSocket endpoints of watch-together rooms (``/api/v1/rooms``). Thin: parse,
call the service (or, for sockets, ``socket.serve``), answer; the docstrings are the OpenAPI
descriptions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, WebSocket, status
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from maria.errors import BadCursor, Forbidden, NotFound, RateLimited
from maria.fields import ID_PATTERN
from maria.http.deps import IdentityDep, service
from maria.http.openapi import doc
from maria.rooms import asyncapi, socket, store
from maria.rooms.invites import NO_INVITE, InviteExpired, InviteRevoked, InviteUsed
from maria.rooms.schemas import (
    InviteCreate,
    InviteOut,
    InviteRedeem,
    MemberOut,
    MessageOut,
    QueueOut,
    RoomCreate,
    RoomDetail,
    RoomEntry,
    RoomOut,
    RoomUpdate,
)
from maria.rooms.service import STAFF_ONLY, RoomsService

router = APIRouter(prefix="/api/v1/rooms", tags=["rooms"])
Rooms = Annotated[RoomsService, service("rooms")]
NO_ROOM = NotFound("No such room")
NOT_STAFF = Forbidden(STAFF_ONLY)

SOCKET_DOC = """
**WebSocket** `/api/v1/rooms/{id}/ws`: live chat, playback and presence. Authenticate with
a bearer header, the access cookie (pages of an allowed origin) or a first frame
`{"type":"auth","token":"<access token>"}` within 5 s; otherwise close 4401. Every frame
(JSON Schema per client and server frame), close code, error code and limit is in the
AsyncAPI 3 document at [`/asyncapi.json`](/asyncapi.json).
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
    """Create a room for a film; the caller is its host (at most 30 per 10 minutes). A
    `private` room is entered with an invite; a `capacity` above `MARIA_ROOM_CAPACITY` is
    lowered to it."""
    view = await rooms.create(
        identity.user_id,
        movie_id=body.movie_id,
        title=body.title,
        visibility=body.visibility,
        capacity=body.capacity,
    )
    return RoomOut.of(view)


@router.get(
    "",
    response_model=list[RoomEntry],
    **doc("listMyRooms", "List the rooms I host or was in"),
)
async def list_my_rooms(
    identity: IdentityDep,
    rooms: Rooms,
    role: Annotated[
        Literal["host", "member"] | None,
        Query(description="`host`: rooms I host; `member`: rooms I was in; default both"),
    ] = None,
) -> list[RoomEntry]:
    """The rooms the caller hosts, or has been in without hosting, newest activity first
    (their last entry, else the room's creation); at most 100."""
    found = await rooms.mine(identity, role)
    return [RoomEntry.entry(view, my_role, last) for view, my_role, last in found]


@router.get(
    "/{room_id}",
    response_model=RoomDetail,
    description=SOCKET_DOC,
    **doc("getRoom", "Get a room and who is in it", NO_ROOM),
)
async def get_room(room_id: str, identity: IdentityDep, rooms: Rooms) -> RoomDetail:
    """A room, its playback state, who is online in it, and its queue. A private room is 404
    unless the caller may enter it (host, admin, co-host, or an invite redeemed)."""
    view, members = await rooms.get(room_id, identity)
    return RoomDetail(
        **RoomOut.of(view).model_dump(),
        members=[MemberOut.of(m) for m in members],
        queue=QueueOut.of(view.queue),
    )


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
    messages = await rooms.messages(room_id, identity, before=before, limit=limit)
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


@router.patch(
    "/{room_id}",
    response_model=RoomOut,
    **doc("updateRoom", "Change a room's title, visibility or capacity", NO_ROOM, NOT_STAFF),
)
async def update_room(
    room_id: str, body: RoomUpdate, identity: IdentityDep, rooms: Rooms
) -> RoomOut:
    """Change the title, the visibility or the capacity (the host and co-hosts). Fields
    left out stay as they are; `capacity: null` is the server's `MARIA_ROOM_CAPACITY`, and a
    larger one is lowered to it. Users present when a room turns private may come back."""
    view = await rooms.update(room_id, identity, body.model_dump(exclude_unset=True))
    return RoomOut.of(view)


@router.post(
    "/{room_id}/invites",
    status_code=status.HTTP_201_CREATED,
    response_model=InviteOut,
    **doc("createRoomInvite", "Create an invite link to a room", NO_ROOM, NOT_STAFF),
)
async def create_invite(
    room_id: str, body: InviteCreate, identity: IdentityDep, rooms: Rooms
) -> InviteOut:
    """A signed invite (the host and co-hosts), valid for `expires_in` seconds (default a
    day), optionally for one person only; `url` is the link to share."""
    invite = await rooms.create_invite(
        room_id, identity, expires_in=body.expires_in, single_use=body.single_use
    )
    return InviteOut(**invite)


@router.get(
    "/{room_id}/invites",
    response_model=list[InviteOut],
    **doc("listRoomInvites", "List a room's invites", NO_ROOM, NOT_STAFF),
)
async def list_invites(room_id: str, identity: IdentityDep, rooms: Rooms) -> list[InviteOut]:
    """The room's newest 100 invites, revoked, used and expired ones too (the host and
    co-hosts)."""
    return [InviteOut(**invite) for invite in await rooms.invites(room_id, identity)]


@router.delete(
    "/{room_id}/invites/{invite_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    **doc("revokeRoomInvite", "Revoke an invite", NO_ROOM, NOT_STAFF, NotFound(NO_INVITE)),
)
async def revoke_invite(
    room_id: str, invite_id: str, identity: IdentityDep, rooms: Rooms
) -> Response:
    """Revoke an invite (the host and co-hosts): it is refused from now on (410
    `invite_revoked`); access already granted with it stays."""
    await rooms.revoke_invite(room_id, identity, invite_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{room_id}/join",
    response_model=RoomOut,
    **doc(
        "joinRoom",
        "Redeem an invite to a room",
        NotFound(NO_INVITE),
        InviteExpired(),
        InviteRevoked(),
        InviteUsed(),
    ),
)
async def join_room(
    room_id: str, body: InviteRedeem, identity: IdentityDep, rooms: Rooms
) -> RoomOut:
    """Redeem an invite: the caller may enter the room from then on, also when it is
    private. A token that is garbled, forged or another room's is 404; an expired, revoked
    or (single-use) already redeemed invite is 410. The redeemer of a single-use invite
    may redeem it again."""
    return RoomOut.of(await rooms.join(room_id, identity, body.invite))


class RoomSocket:
    """The room socket: a plain ASGI endpoint, without FastAPI's per-call dependency
    machinery (whose exit stacks and frames every idle socket would otherwise keep), and
    with the server's own ``send``, which may take ready frames (see ``wire``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = socket_route  # as FastAPI's routes do: its template labels metrics
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


socket_route = WebSocketRoute(router.prefix + "/{room_id}/ws", RoomSocket(), name="room_socket")
router.routes.append(socket_route)

ASYNCAPI = asyncapi.rendered()  # built once, at start


async def asyncapi_document(request: Request) -> Response:
    """The room socket's AsyncAPI 3 document (no authentication: it is the contract)."""
    return Response(ASYNCAPI, media_type="application/json")


# At the root, beside /openapi.json, and like it not an operation of the OpenAPI schema.
router.routes.append(Route("/asyncapi.json", asyncapi_document, include_in_schema=False))
