"""Admin endpoints (``/api/v1/admin``): role ``admin`` only, everyone else gets 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from maria.admin.schemas import AdminUserOut, AdminUserPage, AdminUserPatch
from maria.admin.service import AdminService
from maria.fields import ID_PATTERN, PlainText
from maria.http.deps import require_admin, service

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)])
Admin = Annotated[AdminService, service("admin")]
UserId = Annotated[str, Path(pattern=ID_PATTERN)]


@router.get("/users", response_model=AdminUserPage)
async def list_users(
    admin: Admin,
    query: Annotated[PlainText | None, Query(max_length=320)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AdminUserPage:
    users, next_cursor = await admin.list_users(query=query, cursor=cursor, limit=limit)
    return AdminUserPage(items=[AdminUserOut.of(u) for u in users], next_cursor=next_cursor)


@router.get("/users/{user_id}", response_model=AdminUserOut)
async def get_user(user_id: UserId, admin: Admin) -> AdminUserOut:
    return AdminUserOut.of(await admin.get_user(user_id))


@router.patch("/users/{user_id}", response_model=AdminUserOut)
async def patch_user(user_id: UserId, body: AdminUserPatch, admin: Admin) -> AdminUserOut:
    return AdminUserOut.of(await admin.update_user(user_id, role=body.role, disabled=body.disabled))


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(user_id: UserId, admin: Admin) -> Response:
    await admin.delete_user(user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
