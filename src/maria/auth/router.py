"""HTTP endpoints of the sign-in life cycle (``/api/v1/auth``)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Body, Form, Request, Response, status

from maria.auth.schemas import (
    DeviceSessionOut,
    LoginIn,
    LogoutIn,
    RefreshIn,
    RegisterIn,
    SessionOut,
    TokenOut,
)
from maria.auth.service import IssuedTokens
from maria.auth.transport import (
    REFRESH_COOKIE,
    check_csrf,
    clear_session_cookies,
    set_session_cookies,
)
from maria.deps import ClaimsDep, ClientDep, ServicesDep
from maria.errors import InvalidToken, NotAuthenticated, NotFound, error_response
from maria.fields import PlainText
from maria.users.schemas import UserOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _session_out(issued: IssuedTokens) -> SessionOut:
    return SessionOut(
        access_token=issued.access_token,
        expires_in=max(0, issued.expires_at - int(time.time())),
        expires_at=issued.expires_at,
        refresh_token=issued.refresh_token,
        user=UserOut.of(issued.user),
    )


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=SessionOut)
async def register(
    body: RegisterIn, response: Response, services: ServicesDep, client: ClientDep
) -> SessionOut:
    issued = await services.auth.register(
        email=str(body.email), password=body.password, display_name=body.display_name, client=client
    )
    set_session_cookies(response, issued, services.settings)
    return _session_out(issued)


@router.post("/login", response_model=SessionOut)
async def login(
    body: LoginIn, response: Response, services: ServicesDep, client: ClientDep
) -> SessionOut:
    issued = await services.auth.login(email=body.email, password=body.password, client=client)
    set_session_cookies(response, issued, services.settings)
    return _session_out(issued)


@router.post("/token", response_model=TokenOut)
async def token(
    username: Annotated[PlainText, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    services: ServicesDep,
    client: ClientDep,
) -> TokenOut:
    """OAuth2 password grant (``username`` is the email), for Swagger UI and scripts."""
    issued = await services.auth.login(email=username, password=password, client=client)
    return TokenOut(
        access_token=issued.access_token,
        expires_in=max(0, issued.expires_at - int(time.time())),
        refresh_token=issued.refresh_token,
    )


@router.post("/refresh", response_model=SessionOut)
async def refresh(
    request: Request,
    response: Response,
    services: ServicesDep,
    client: ClientDep,
    body: Annotated[RefreshIn | None, Body()] = None,
) -> SessionOut | Response:
    """Rotate the refresh token given in the body, or in the refresh cookie (with CSRF)."""
    token = body.refresh_token if body is not None else None
    from_cookie = token is None
    if from_cookie:
        token = request.cookies.get(REFRESH_COOKIE)
        if token is None:
            raise NotAuthenticated("No refresh token given")
        check_csrf(request)
    assert token is not None
    try:
        issued = await services.auth.refresh(token, client)
    except InvalidToken as exc:
        if not from_cookie:
            raise
        # A raised error would drop ``response``'s headers: answer here to clear the dead
        # cookies, so the browser stops sending them.
        refused = error_response(exc)
        clear_session_cookies(refused, services.settings)
        return refused
    set_session_cookies(response, issued, services.settings)
    return _session_out(issued)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    claims: ClaimsDep, services: ServicesDep, body: Annotated[LogoutIn | None, Body()] = None
) -> Response:
    await services.auth.logout(claims, (body or LogoutIn()).scope)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(response, services.settings)
    return response


@router.get("/sessions", response_model=list[DeviceSessionOut])
async def sessions(claims: ClaimsDep, services: ServicesDep) -> list[DeviceSessionOut]:
    return [
        DeviceSessionOut(
            id=s.id,
            created_at=s.created_at,
            last_used_at=s.last_used_at,
            user_agent=s.user_agent,
            ip=s.ip,
            current=s.id == claims.sid,
        )
        for s in await services.auth.list_sessions(claims.sub)
    ]


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def end_session(session_id: str, claims: ClaimsDep, services: ServicesDep) -> Response:
    if len(session_id) > 64 or not await services.auth.end_session(claims.sub, session_id):
        raise NotFound("No such session")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
