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
from maria.auth.service import AuthService, IssuedTokens
from maria.errors import CsrfFailed, InvalidToken, NotAuthenticated, NotFound
from maria.fields import PlainText
from maria.http.deps import ClientDep, IdentityDep, service
from maria.http.errors import error_response
from maria.http.transport import CSRF_HEADER, REFRESH_COOKIE, CookiePolicy, csrf_ok
from maria.users.schemas import UserOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
Auth = Annotated[AuthService, service("auth")]
Cookies = Annotated[CookiePolicy, service("cookies")]


def _signed_in(issued: IssuedTokens, cookies: CookiePolicy, status_code: int = 200) -> Response:
    """The ``Session`` body (rendered once, not validated again by FastAPI) with the
    session cookies."""
    body = SessionOut(
        access_token=issued.access_token,
        expires_in=max(0, issued.expires_at - int(time.time())),
        expires_at=issued.expires_at,
        refresh_token=issued.refresh_token,
        user=UserOut.of(issued.user),
    ).model_dump_json()
    response = Response(body, status_code=status_code, media_type="application/json")
    cookies.set_session(response, issued.access_token, issued.refresh_token)
    return response


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=SessionOut)
async def register(body: RegisterIn, auth: Auth, cookies: Cookies, client: ClientDep) -> Response:
    issued = await auth.register(
        email=str(body.email), password=body.password, display_name=body.display_name, client=client
    )
    return _signed_in(issued, cookies, status.HTTP_201_CREATED)


@router.post("/login", response_model=SessionOut)
async def login(body: LoginIn, auth: Auth, cookies: Cookies, client: ClientDep) -> Response:
    issued = await auth.login(email=body.email, password=body.password, client=client)
    return _signed_in(issued, cookies)


@router.post("/token", response_model=TokenOut)
async def token(
    username: Annotated[PlainText, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    auth: Auth,
    client: ClientDep,
) -> TokenOut:
    """OAuth2 password grant (``username`` is the email), for Swagger UI and scripts."""
    issued = await auth.login(email=username, password=password, client=client)
    return TokenOut(
        access_token=issued.access_token,
        expires_in=max(0, issued.expires_at - int(time.time())),
        refresh_token=issued.refresh_token,
    )


@router.post("/refresh", response_model=SessionOut)
async def refresh(
    request: Request,
    auth: Auth,
    cookies: Cookies,
    client: ClientDep,
    body: Annotated[RefreshIn | None, Body()] = None,
) -> Response:
    """Rotate the refresh token given in the body, or in the refresh cookie (with CSRF)."""
    token = body.refresh_token if body is not None else None
    from_cookie = token is None
    if from_cookie:
        token = request.cookies.get(REFRESH_COOKIE)
        if token is None:
            raise NotAuthenticated("No refresh token given")
        if not csrf_ok(request.method, request.cookies, request.headers.get(CSRF_HEADER)):
            raise CsrfFailed()
    assert token is not None
    try:
        issued = await auth.refresh(token, client)
    except InvalidToken as exc:
        if not from_cookie:
            raise
        # A raised error would drop ``response``'s headers: answer here to clear the dead
        # cookies, so the browser stops sending them.
        refused = error_response(exc)
        cookies.clear_session(refused)
        return refused
    return _signed_in(issued, cookies)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    identity: IdentityDep,
    auth: Auth,
    cookies: Cookies,
    body: Annotated[LogoutIn | None, Body()] = None,
) -> Response:
    await auth.logout(identity, (body or LogoutIn()).scope)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    cookies.clear_session(response)
    return response


@router.get("/sessions", response_model=list[DeviceSessionOut])
async def sessions(identity: IdentityDep, auth: Auth) -> list[DeviceSessionOut]:
    return [
        DeviceSessionOut(
            id=s.id,
            created_at=s.created_at,
            last_used_at=s.last_used_at,
            user_agent=s.user_agent,
            ip=s.ip,
            current=s.id == identity.session_id,
        )
        for s in await auth.list_sessions(identity.user_id)
    ]


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def end_session(session_id: str, identity: IdentityDep, auth: Auth) -> Response:
    if len(session_id) > 64 or not await auth.end_session(identity.user_id, session_id):
        raise NotFound("No such session")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
