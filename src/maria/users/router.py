"""HTTP endpoints of the signed-in user's account (``/api/v1/users``)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from maria.auth.gate import CLAIMS_KEY
from maria.auth.tokens import AccessClaims
from maria.deps import ClaimsDep, ServicesDep, services_of
from maria.errors import InvalidToken
from maria.services import Services
from maria.users import service
from maria.users.schemas import UserOut, UserPatch
from maria.users.service import UserView

router = APIRouter(prefix="/api/v1/users", tags=["users"])


async def _me(claims_sub: str, services: Services) -> UserView:
    user = await services.users.get(claims_sub)
    if user is None or user.disabled:
        raise InvalidToken("The account no longer exists")
    return user


@lru_cache(maxsize=4096)
def _user_json(user: UserView) -> bytes:
    """Views are immutable and replaced on change, so their JSON can be kept with them."""
    return UserOut.of(user).model_dump_json().encode()


class MeRoute(APIRoute):
    """``GET /me`` for a bearer token ``TokenGate`` already verified and a user this
    instance holds: answered without FastAPI's dependency resolution (about a third of
    the request's CPU: 161 -> 107 µs). Anything else (a cookie, a miss, a disabled
    account) goes the declared way, which gives the same answer (``current_claims``
    returns the same claims)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        declared = super().get_route_handler()

        async def handler(request: Request) -> Response:
            claims: AccessClaims | None = request.scope.get(CLAIMS_KEY)
            if claims is not None:
                user = services_of(request).users.cached(claims.sub)
                if user is not None and not user.disabled:
                    return Response(_user_json(user), media_type="application/json")
            return await declared(request)

        return handler


async def get_me(request: Request, claims: ClaimsDep) -> Response:
    user = await _me(claims.sub, services_of(request))
    return Response(_user_json(user), media_type="application/json")


router.add_api_route(
    "/me", get_me, methods=["GET"], response_model=UserOut, route_class_override=MeRoute
)


@router.patch("/me", response_model=UserOut)
async def patch_me(body: UserPatch, claims: ClaimsDep, services: ServicesDep) -> UserOut:
    await _me(claims.sub, services)
    async with services.sessionmaker() as db, db.begin():
        user = await service.update_profile(db, claims.sub, display_name=body.display_name)
    if user is None:
        raise InvalidToken("The account no longer exists")
    await services.users.changed(claims.sub)
    return UserOut.of(UserView.of(user))
