"""Admin endpoints (``/api/v1/admin``): role ``admin`` only, everyone else gets 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from maria.admin.schemas import AdminSessionOut, AdminUserOut, AdminUserPage, AdminUserPatch
from maria.admin.service import LAST_ADMIN, AdminService
from maria.audit.schemas import AuditPage
from maria.audit.service import EVENTS
from maria.errors import BadCursor, Conflict, NotFound, ValidationFailed
from maria.fields import CURSOR_PATTERN, ID_PATTERN, PlainText
from maria.http.deps import ClientDep, require_admin, service
from maria.http.openapi import doc
from maria.identity import Identity

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)])
Admin = Annotated[AdminService, service("admin")]
Acting = Annotated[Identity, Depends(require_admin)]
UserId = Annotated[str, Path(pattern=ID_PATTERN)]
NO_USER = NotFound("No such user")


@router.get(
    "/users",
    response_model=AdminUserPage,
    **doc("adminListUsers", "List or search users", BadCursor()),
)
async def list_users(
    admin: Admin,
    query: Annotated[PlainText | None, Query(max_length=320)] = None,
    cursor: Annotated[str | None, Query(max_length=512, pattern=CURSOR_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AdminUserPage:
    """Every account, oldest first; `query` matches part of the email or display name."""
    users, next_cursor = await admin.list_users(query=query, cursor=cursor, limit=limit)
    return AdminUserPage(items=[AdminUserOut.of(u) for u in users], next_cursor=next_cursor)


@router.get(
    "/users/{user_id}", response_model=AdminUserOut, **doc("adminGetUser", "Get a user", NO_USER)
)
async def get_user(user_id: UserId, admin: Admin) -> AdminUserOut:
    """One account, with `disabled`."""
    return AdminUserOut.of(await admin.get_user(user_id))


@router.patch(
    "/users/{user_id}",
    response_model=AdminUserOut,
    **doc(
        "adminUpdateUser",
        "Change a user's role or disable them",
        NO_USER,
        Conflict(LAST_ADMIN),
    ),
)
async def patch_user(
    user_id: UserId, body: AdminUserPatch, admin: Admin, acting: Acting, client: ClientDep
) -> AdminUserOut:
    """Change a role or disable an account: either ends the user's sessions (and room
    sockets) at once, everywhere."""
    user = await admin.update_user(
        acting, user_id, role=body.role, disabled=body.disabled, client=client
    )
    return AdminUserOut.of(user)


@router.delete(
    "/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    **doc("adminDeleteUser", "Delete a user", NO_USER, Conflict(LAST_ADMIN)),
)
async def delete_user(user_id: UserId, admin: Admin, acting: Acting, client: ClientDep) -> Response:
    """Delete an account and everything of it, as the user could (see `DELETE /users/me`)."""
    await admin.delete_user(acting, user_id, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/users/{user_id}/sessions",
    response_model=list[AdminSessionOut],
    **doc("adminListUserSessions", "List a user's sessions", NO_USER),
)
async def user_sessions(user_id: UserId, admin: Admin) -> list[AdminSessionOut]:
    """The user's live sessions, most recently used first."""
    return [AdminSessionOut.of(s) for s in await admin.sessions(user_id)]


@router.delete(
    "/users/{user_id}/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    **doc("adminEndUserSession", "Sign out one of a user's sessions", NotFound("No such session")),
)
async def end_user_session(
    user_id: UserId,
    session_id: Annotated[str, Path(max_length=64)],
    admin: Admin,
    acting: Acting,
    client: ClientDep,
) -> Response:
    """End one of the user's sessions (404 if it is not theirs or not live)."""
    await admin.end_session(acting, user_id, session_id, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/audit",
    response_model=AuditPage,
    **doc(
        "adminListAuditEvents",
        "Read the audit log",
        BadCursor(),
        ValidationFailed(f"Unknown event; one of {', '.join(sorted(EVENTS))}"),
    ),
)
async def audit(
    admin: Admin,
    user_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    event: Annotated[str | None, Query(json_schema_extra={"enum": sorted(EVENTS)})] = None,
    cursor: Annotated[str | None, Query(max_length=200, pattern=CURSOR_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AuditPage:
    """The audit log, newest first, optionally one user's or one kind of event."""
    if event is not None and event not in EVENTS:
        raise ValidationFailed(f"Unknown event; one of {', '.join(sorted(EVENTS))}")
    events, next_cursor = await admin.audit(
        user_id=user_id, event=event, cursor=cursor, limit=limit
    )
    return AuditPage.of(events, next_cursor)
