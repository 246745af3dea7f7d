"""Admin endpoints (``/api/v1/admin``): role ``admin`` only, everyone else gets 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from maria.admin import service
from maria.admin.schemas import AdminUserOut, AdminUserPage, AdminUserPatch
from maria.auth.tokens import AccessClaims
from maria.deps import ClaimsDep, ServicesDep
from maria.errors import Forbidden
from maria.fields import ID_PATTERN, PlainText
from maria.users.service import UserView


async def require_admin(claims: ClaimsDep) -> AccessClaims:
    # The role claim is current: changing a role ends the user's sessions.
    if claims.role != "admin":
        raise Forbidden("Admins only")
    return claims


router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)])
UserId = Annotated[str, Path(pattern=ID_PATTERN)]


@router.get("/users", response_model=AdminUserPage)
async def list_users(
    services: ServicesDep,
    query: Annotated[PlainText | None, Query(max_length=320)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AdminUserPage:
    async with services.sessionmaker() as db:
        users, next_cursor = await service.list_users(db, query=query, cursor=cursor, limit=limit)
    return AdminUserPage(items=[AdminUserOut.of(u) for u in users], next_cursor=next_cursor)


@router.get("/users/{user_id}", response_model=AdminUserOut)
async def get_user(user_id: UserId, services: ServicesDep) -> AdminUserOut:
    async with services.sessionmaker() as db:
        return AdminUserOut.of(UserView.of(await service.get_user(db, user_id)))


@router.patch("/users/{user_id}", response_model=AdminUserOut)
async def patch_user(user_id: UserId, body: AdminUserPatch, services: ServicesDep) -> AdminUserOut:
    async with services.sessionmaker() as db:
        view = await service.update_user(
            db, services.auth, services.users, user_id, role=body.role, disabled=body.disabled
        )
    return AdminUserOut.of(view)


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(user_id: UserId, services: ServicesDep) -> Response:
    async with services.sessionmaker() as db:
        await service.delete_user(db, services.auth, services.users, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
