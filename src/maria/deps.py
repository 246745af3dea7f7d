"""FastAPI dependencies shared by the routers: services, caller identity, client info."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from maria.auth.gate import CLAIMS_KEY, TOKEN_ERROR_KEY
from maria.auth.service import Client
from maria.auth.tokens import AccessClaims
from maria.auth.transport import ACCESS_COOKIE, check_csrf
from maria.errors import ApiError, NotAuthenticated
from maria.services import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    return services_of(request)


async def client_of(request: Request) -> Client:
    ip = request.client.host if request.client else "unknown"
    return Client(ip=ip, user_agent=request.headers.get("user-agent"))


class _AccessToken(OAuth2PasswordBearer):
    """The caller's verified access token: the bearer header (checked by ``TokenGate``), else
    the access cookie, which needs the CSRF header on unsafe methods.

    A security scheme itself, so Swagger's Authorize button knows it, at the cost of one
    dependency per request (the hot path is ``GET /users/me``).
    """

    async def __call__(self, request: Request) -> AccessClaims:  # type: ignore[override]
        scope = request.scope
        claims: AccessClaims | None = scope.get(CLAIMS_KEY)
        if claims is not None:
            return claims
        error: ApiError | None = scope.get(TOKEN_ERROR_KEY)
        if error is not None:
            raise error
        token = request.cookies.get(ACCESS_COOKIE)
        if token is None:
            raise NotAuthenticated()
        check_csrf(request)
        return services_of(request).auth.authenticate(token)


current_claims = _AccessToken(tokenUrl="/api/v1/auth/token", auto_error=False)


ServicesDep = Annotated[Services, Depends(get_services)]
ClaimsDep = Annotated[AccessClaims, Depends(current_claims)]
ClientDep = Annotated[Client, Depends(client_of)]
