"""HTTP endpoints of the sign-in life cycle (``/api/v1/auth``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Form, Request, Response, status

from maria.auth.devices import MAX_TOKEN_LENGTH
from maria.auth.recovery import Recovery
from maria.auth.schemas import (
    CodeIn,
    DeviceSessionOut,
    EmailIn,
    LoginIn,
    LogoutIn,
    RefreshIn,
    RegisterIn,
    ResetIn,
    SessionOut,
    TokenIn,
    TokenOut,
)
from maria.auth.service import AuthService, IssuedTokens, policy_refusal
from maria.errors import (
    Conflict,
    CsrfFailed,
    Forbidden,
    InvalidCredentials,
    InvalidToken,
    NotAuthenticated,
    NotFound,
    RateLimited,
)
from maria.fields import PlainText
from maria.http.deps import ClientDep, CookiesDep, IdentityDep, service
from maria.http.errors import error_response
from maria.http.openapi import REFRESH_SECURITY, doc
from maria.http.transport import (
    CSRF_HEADER,
    DEVICE_COOKIE,
    REFRESH_COOKIE,
    CookiePolicy,
    csrf_ok,
)
from maria.users.schemas import UserOut

log = logging.getLogger("maria.auth")
router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
Auth = Annotated[AuthService, service("auth")]
RecoveryDep = Annotated[Recovery, service("recovery")]
Responses = dict[int | str, dict[str, Any]]
Cookies = CookiesDep  # Secure follows the request's scheme unless configured
# What a password sign-in may be refused with (the login limits: docs/api.md).
SIGN_IN_REFUSALS = (InvalidCredentials, Forbidden("This account is disabled"), RateLimited)
LINK_REFUSED = InvalidToken("This link is invalid, used or expired")


def _signed_in(issued: IssuedTokens, cookies: CookiePolicy, status_code: int = 200) -> Response:
    """The ``Session`` body (rendered once, not validated again by FastAPI) with the
    session cookies."""
    body = SessionOut(
        access_token=issued.access_token,
        expires_in=max(0, issued.expires_at - int(time.time())),
        expires_at=issued.expires_at,
        refresh_token=issued.refresh_token,
        user=UserOut.of(issued.user),
        device_token=issued.device_token,
    ).model_dump_json()
    response = Response(body, status_code=status_code, media_type="application/json")
    cookies.set_session(response, issued.access_token, issued.refresh_token)
    if issued.device_token is not None:
        cookies.set_device(response, issued.device_token)
    return response


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionOut,
    **doc(
        "register",
        "Create an account",
        Conflict("An account with this email already exists"),
        policy_refusal("This password is too common; choose another", "password"),
        RateLimited,
    ),
)
async def register(body: RegisterIn, auth: Auth, cookies: Cookies, client: ClientDep) -> Response:
    """Create an account and sign in to it: the answer is a `Session`, with the session
    cookies. A verification link is mailed to the address."""
    issued = await auth.register(
        email=str(body.email), password=body.password, display_name=body.display_name, client=client
    )
    return _signed_in(issued, cookies, status.HTTP_201_CREATED)


@router.post(
    "/login",
    response_model=SessionOut,
    **doc("login", "Sign in with email and password", *SIGN_IN_REFUSALS),
)
async def login(
    body: LoginIn, request: Request, auth: Auth, cookies: Cookies, client: ClientDep
) -> Response:
    """Sign in. A client that signed in to this account before is known by its device token
    (the body's `device_token`, or the `maria_device` cookie) and keeps signing in while
    the account refuses unknown clients (see the contract's limits)."""
    issued = await auth.login(
        email=body.email,
        password=body.password,
        client=client,
        device_tokens=(body.device_token, request.cookies.get(DEVICE_COOKIE)),
    )
    return _signed_in(issued, cookies)


@router.post(
    "/token",
    response_model=TokenOut,
    **doc("createToken", "Sign in with the OAuth2 password grant", *SIGN_IN_REFUSALS),
)
async def token(
    username: Annotated[PlainText, Form(min_length=1, max_length=320)],  # "" is as missing
    password: Annotated[str, Form(min_length=1, max_length=1024)],
    request: Request,
    auth: Auth,
    client: ClientDep,
    device_token: Annotated[str | None, Form(min_length=1, max_length=MAX_TOKEN_LENGTH)] = None,
) -> TokenOut:
    """OAuth2 password grant (``username`` is the email), for Swagger UI and scripts; an
    optional ``device_token`` as in login."""
    issued = await auth.login(
        email=username,
        password=password,
        client=client,
        device_tokens=(device_token, request.cookies.get(DEVICE_COOKIE)),
    )
    return TokenOut(
        access_token=issued.access_token,
        expires_in=max(0, issued.expires_at - int(time.time())),
        refresh_token=issued.refresh_token,
        device_token=issued.device_token,
    )


@router.post(
    "/refresh",
    response_model=SessionOut,
    **doc(
        "refreshSession",
        "Get a new token pair",
        NotAuthenticated("No refresh token given"),
        InvalidToken("Unknown refresh token"),
        CsrfFailed,
        RateLimited,
        security=REFRESH_SECURITY,
    ),
)
async def refresh(
    request: Request,
    auth: Auth,
    cookies: Cookies,
    client: ClientDep,
    body: Annotated[RefreshIn | None, Body()] = None,
) -> Response:
    """Rotate the refresh token given in the body, or in the refresh cookie (with the
    CSRF header): a new access token and a new refresh token; the old one is spent (sent
    again within a few seconds, it returns the same new pair, for racing tabs; later, it
    ends the session as stolen)."""
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


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, **doc("logout", "Sign out"))
async def logout(
    identity: IdentityDep,
    auth: Auth,
    cookies: Cookies,
    client: ClientDep,
    body: Annotated[LogoutIn | None, Body()] = None,
) -> Response:
    """End this session (`local`, the default), every other one (`others`) or all
    (`global`); their tokens are refused at once, on every instance. Clears the cookies,
    except for `others` (this browser stays signed in)."""
    scope = (body or LogoutIn()).scope
    await auth.logout(identity, scope, client)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if scope != "others":  # "others" keeps this browser signed in
        cookies.clear_session(response)
    return response


@router.get(
    "/sessions",
    response_model=list[DeviceSessionOut],
    **doc("listSessions", "List your sessions"),
)
async def sessions(identity: IdentityDep, auth: Auth) -> list[DeviceSessionOut]:
    """The caller's live sessions, most recently used first; `current` marks this one."""
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


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    **doc("endSession", "Sign out one of your sessions", NotFound("No such session")),
)
async def end_session(session_id: str, identity: IdentityDep, auth: Auth) -> Response:
    """End one of the caller's sessions (404 if it is not theirs or not live)."""
    if len(session_id) > 64 or not await auth.end_session(identity.user_id, session_id):
        raise NotFound("No such session")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- proving an email, getting back in ---------------------------------------------------

ACCEPTED: Responses = {202: {"description": "Accepted; a mail follows if it can"}}


async def _after_response(what: str, call: Callable[[], Awaitable[None]]) -> None:
    """Work done once the answer has gone out; its failure is logged, never lost."""
    try:
        await call()
    except Exception:
        log.exception("%s failed after the response", what)


@router.post(
    "/password/forgot",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    **doc("requestPasswordReset", "Mail a password reset link", RateLimited, responses=ACCEPTED),
)
async def forgot_password(
    body: EmailIn, recovery: RecoveryDep, auth: Auth, client: ClientDep, later: BackgroundTasks
) -> Response:
    """Mail a password reset link (valid 30 minutes, once) if an account has this email.
    The answer is 202 in the same time either way: the account is looked up after it."""
    await auth.guard.check_mail_ip(client.ip)
    later.add_task(
        _after_response, "password reset mail", partial(recovery.forgot_password, str(body.email))
    )
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/password/reset",
    status_code=status.HTTP_204_NO_CONTENT,
    **doc(
        "resetPassword",
        "Set a new password from a reset link",
        LINK_REFUSED,
        policy_refusal("This password is too common; choose another", "new_password"),
    ),
)
async def reset_password(body: ResetIn, recovery: RecoveryDep, client: ClientDep) -> Response:
    """Set a new password with the mailed link's token: every session of the account ends
    (its tokens are refused at once, everywhere) and a notice goes to its address."""
    await recovery.reset_password(body.token, body.new_password, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/email/verify/send",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    **doc(
        "sendVerificationEmail",
        "Mail a new verification link",
        RateLimited(60, "Too many mails to this address; try again later"),
        responses=ACCEPTED,
    ),
)
async def send_verification(
    identity: IdentityDep, recovery: RecoveryDep, client: ClientDep
) -> Response:
    """Mail the caller a new verification link (valid 24 hours, once); 429 past the
    limits. Nothing is sent once the address is verified."""
    await recovery.send_verification(identity, client)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/email/verify",
    status_code=status.HTTP_204_NO_CONTENT,
    **doc("verifyEmail", "Prove your email address", LINK_REFUSED),
)
async def verify_email(body: TokenIn, recovery: RecoveryDep, client: ClientDep) -> Response:
    """Prove the address with the mailed link's token; `email_verified` is true from now
    on (in access tokens from the next refresh)."""
    await recovery.verify_email(body.token, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/email-code",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    **doc("sendSignInCode", "Mail a sign-in code", RateLimited, responses=ACCEPTED),
)
async def send_code(
    body: EmailIn, recovery: RecoveryDep, auth: Auth, client: ClientDep, later: BackgroundTasks
) -> Response:
    """Mail a six-digit sign-in code (and a link with it), valid 10 minutes, to this
    address, whether or not it has an account yet: 202 either way, in the same time."""
    await auth.guard.check_mail_ip(client.ip)
    later.add_task(
        _after_response, "sign-in code mail", partial(recovery.send_code, str(body.email))
    )
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/email-code/verify",
    response_model=SessionOut,
    **doc(
        "signInWithCode",
        "Sign in with a mailed code",
        InvalidCredentials("Invalid or expired code"),
        RateLimited,
    ),
)
async def sign_in_with_code(
    body: CodeIn, recovery: RecoveryDep, cookies: Cookies, client: ClientDep
) -> Response:
    """Sign in with the mailed code (five wrong tries void it). An address without an
    account gets one, without a password; the address counts as verified."""
    issued = await recovery.sign_in_with_code(str(body.email), body.code, client)
    return _signed_in(issued, cookies)
