"""HTTP endpoints of the signed-in user's account (``/api/v1/users``)."""

from __future__ import annotations

from fastapi import APIRouter

from maria.deps import ClaimsDep, ServicesDep
from maria.errors import InvalidToken
from maria.users import service
from maria.users.schemas import UserOut, UserPatch
from maria.users.service import UserView

router = APIRouter(prefix="/api/v1/users", tags=["users"])


async def _me(claims_sub: str, services: ServicesDep) -> UserView:
    user = await services.users.get(claims_sub)
    if user is None or user.disabled:
        raise InvalidToken("The account no longer exists")
    return user


@router.get("/me", response_model=UserOut)
async def get_me(claims: ClaimsDep, services: ServicesDep) -> UserOut:
    return UserOut.of(await _me(claims.sub, services))


@router.patch("/me", response_model=UserOut)
async def patch_me(body: UserPatch, claims: ClaimsDep, services: ServicesDep) -> UserOut:
    await _me(claims.sub, services)
    async with services.sessionmaker() as db, db.begin():
        user = await service.update_profile(db, claims.sub, display_name=body.display_name)
    if user is None:
        raise InvalidToken("The account no longer exists")
    await services.users.changed(claims.sub)
    return UserOut.of(UserView.of(user))
