"""HTTP endpoints of the signed-in user's account (``/api/v1/users``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Response
from starlette.types import Scope

from maria.http.deps import IdentityDep, service
from maria.http.identity import caller_of
from maria.http.shortcut import with_shortcut
from maria.users.schemas import UserOut, UserPatch
from maria.users.service import UsersService
from maria.users.views import UserView

router = APIRouter(prefix="/api/v1/users", tags=["users"])
Users = Annotated[UsersService, service("users")]


@lru_cache(maxsize=4096)
def _user_json(user: UserView) -> bytes:
    """Views are immutable and replaced on change, so their JSON can be kept with them."""
    return UserOut.of(user).model_dump_json().encode()


def _json(user: UserView) -> Response:
    return Response(_user_json(user), media_type="application/json")


def cached_me(scope: Scope, users: UsersService) -> Response | None:
    """``GET /me`` of a signed-in caller whose user this instance holds."""
    identity = caller_of(scope).identity
    if identity is None:
        return None
    user = users.cached(identity.user_id)
    if user is None or user.disabled:
        return None
    return _json(user)


async def get_me(identity: IdentityDep, users: Users) -> Response:
    return _json(await users.active(identity.user_id))


router.add_api_route(
    "/me",
    get_me,
    methods=["GET"],
    response_model=UserOut,
    route_class_override=with_shortcut("users", cached_me),
)


@router.patch("/me", response_model=UserOut)
async def patch_me(body: UserPatch, identity: IdentityDep, users: Users) -> UserOut:
    return UserOut.of(await users.update_profile(identity.user_id, display_name=body.display_name))
