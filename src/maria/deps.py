"""FastAPI dependencies shared by the routers: services, caller identity, client info."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from maria.auth.service import Client
from maria.auth.tokens import AccessClaims
from maria.auth.transport import ACCESS_COOKIE, bearer_token, check_csrf
from maria.errors import NotAuthenticated
from maria.services import Services

# Declared for the OpenAPI schema (Swagger's Authorize button); the check is ``current_claims``.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def client_of(request: Request) -> Client:
    ip = request.client.host if request.client else "unknown"
    return Client(ip=ip, user_agent=request.headers.get("user-agent"))


def current_claims(
    request: Request, _: Annotated[str | None, Depends(oauth2_scheme)] = None
) -> AccessClaims:
    """The verified access token of the caller: bearer header first, else the cookie."""
    services: Services = request.app.state.services
    token = bearer_token(request)
    if token is None:
        token = request.cookies.get(ACCESS_COOKIE)
        if token is None:
            raise NotAuthenticated()
        check_csrf(request)
    return services.auth.authenticate(token)


ServicesDep = Annotated[Services, Depends(get_services)]
ClaimsDep = Annotated[AccessClaims, Depends(current_claims)]
ClientDep = Annotated[Client, Depends(client_of)]
