"""Check a presented bearer token once per request, before routing.

A request to the API that carries ``Authorization`` with a bad, expired or revoked token is
answered 401 here, without reaching the framework: refusing garbage costs one HMAC. The
endpoints under ``/api/v1/auth/`` exist to replace stale tokens (log in, refresh), so there
the verdict is only recorded and left to the route's dependencies. A valid token's claims
are put in the scope for ``deps.current_claims``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from maria.errors import ApiError, InvalidToken, error_response

CLAIMS_KEY = "maria.claims"
TOKEN_ERROR_KEY = "maria.token_error"
GATED_PREFIX = "/api/v1/"
DEFERRED_PREFIX = "/api/v1/auth/"


def presented_bearer(scope: Scope) -> str | None:
    """The token of an ``Authorization`` header; "" when the header is not a usable bearer."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else ""
    return None


class TokenGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            token = presented_bearer(scope)
            if token is not None:
                try:
                    if not token:
                        raise InvalidToken("Use 'Authorization: Bearer <access token>'")
                    scope[CLAIMS_KEY] = scope["app"].state.services.auth.authenticate(token)
                except ApiError as exc:
                    path: str = scope["path"]
                    if path.startswith(GATED_PREFIX) and not path.startswith(DEFERRED_PREFIX):
                        await error_response(exc)(scope, receive, send)
                        return
                    scope[TOKEN_ERROR_KEY] = exc
        await self.app(scope, receive, send)
