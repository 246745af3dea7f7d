"""Who is calling: worked out once per request or socket, before routing.

``Authentication`` reads the credentials a request carries, a bearer token, else the access
cookie (with the CSRF rule on unsafe methods; on a socket, only from an allowed page),
verifies them with the function it was built with (``AuthService.authenticate``: signature,
claims and revocation, no database), and puts one ``Caller`` in the scope. Routes, fast paths
and sockets read that object (``caller_of``); nothing else parses a token. A socket that
authenticates in its first frame asks the same function (``verify_in_band``).

A request to the API whose bearer token is refused is answered 401 here, before routing:
refusing garbage costs one HMAC. Under ``/api/v1/auth/`` (signing in and refreshing are the
way out of a stale token) the refusal is only recorded; the routes there that need a caller
(logout, sessions) raise it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from maria.errors import ApiError, CsrfFailed, InvalidToken, NotAuthenticated
from maria.http.errors import error_response
from maria.http.raw import header
from maria.http.transport import ACCESS_COOKIE, csrf_ok, origin_allowed
from maria.identity import Identity

CALLER_KEY = "maria.caller"
_VERIFY_KEY = "maria.verify"
API_PREFIX = "/api/v1/"
SIGN_IN_PREFIX = "/api/v1/auth/"

Verify = Callable[[str], Identity]


@dataclass(frozen=True, slots=True)
class Caller:
    """The outcome of authentication: an identity, a refusal of the credentials presented,
    or neither (anonymous)."""

    identity: Identity | None = None
    refused: ApiError | None = None

    def require(self) -> Identity:
        """The identity, or the reason there is none (401/403)."""
        if self.identity is not None:
            return self.identity
        raise self.refused or NotAuthenticated()

    def optional(self) -> Identity | None:
        """The identity, or None when no credentials were presented; refused ones still fail."""
        if self.refused is not None:
            raise self.refused
        return self.identity


ANONYMOUS = Caller()
_NOT_BEARER = "Use 'Authorization: Bearer <access token>'"


def caller_of(scope: Scope) -> Caller:
    caller: Caller = scope.get(CALLER_KEY, ANONYMOUS)
    return caller


def verify_in_band(scope: Scope, token: str) -> Identity:
    """A token a socket received in a frame, checked like the ones in headers."""
    verify: Verify = scope[_VERIFY_KEY]
    return verify(token)


class Authentication:
    """ASGI middleware: puts the ``Caller`` of every HTTP request and WebSocket in the scope."""

    def __init__(self, app: ASGIApp, *, verify: Verify, origins: Collection[str]) -> None:
        self.app = app
        self._verify = verify
        self._origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            caller, bearer = self._caller(scope, socket=False)
            scope[CALLER_KEY] = caller
            if caller.refused is not None and bearer:
                path: str = scope["path"]
                if path.startswith(API_PREFIX) and not path.startswith(SIGN_IN_PREFIX):
                    await error_response(caller.refused)(scope, receive, send)
                    return
        elif kind == "websocket":
            scope[CALLER_KEY], _ = self._caller(scope, socket=True)
            scope[_VERIFY_KEY] = self._verify
        await self.app(scope, receive, send)

    def _checked(self, token: str) -> Caller:
        try:
            return Caller(identity=self._verify(token))
        except ApiError as exc:
            # Kept without its traceback: the frames would hold the scope, which holds the
            # Caller (a reference cycle per refused request, left to the garbage collector).
            return Caller(refused=exc.with_traceback(None))

    def _caller(self, scope: Scope, *, socket: bool) -> tuple[Caller, bool]:
        """The caller, and whether it presented a bearer token (which always wins)."""
        cookie_headers: list[bytes] = []
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                token = token.strip()
                if scheme.lower() != "bearer" or not token:
                    return Caller(refused=InvalidToken(_NOT_BEARER)), True
                return self._checked(token), True
            if name == b"cookie":
                cookie_headers.append(value)
        if not cookie_headers:
            return ANONYMOUS, False
        cookies: dict[str, str] = {}
        for raw in cookie_headers:
            cookies.update(cookie_parser(raw.decode("latin-1")))
        token = cookies.get(ACCESS_COOKIE)
        if token is None:
            return ANONYMOUS, False
        if socket:
            return self._socket_cookie(scope, token), False
        if not csrf_ok(scope["method"], cookies, header(scope, b"x-csrf-token")):
            return Caller(refused=CsrfFailed()), False
        return self._checked(token), False

    def _socket_cookie(self, scope: Scope, token: str) -> Caller:
        """Cookies count on a socket only from an allowed page; a stale one is no refusal,
        since the client may still authenticate in its first frame."""
        origin, host = header(scope, b"origin"), header(scope, b"host")
        if not origin_allowed(origin, host, scope.get("scheme") == "wss", self._origins):
            return ANONYMOUS
        caller = self._checked(token)
        return ANONYMOUS if caller.identity is None else caller
