"""What routes receive: the caller's identity, the client's address, and the few services
each route uses (never the whole container)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from maria.errors import Forbidden
from maria.http.identity import caller_of
from maria.http.transport import CookiePolicy
from maria.identity import Client, Identity


class _SignedIn(OAuth2PasswordBearer):
    """The caller's identity, else its refusal or 401 ``not_authenticated``.

    An OAuth2 security scheme itself, so that Swagger's Authorize button knows it; the
    identity was worked out by ``maria.http.identity.Authentication`` (bearer or cookie).
    """

    async def __call__(self, request: Request) -> Identity:  # type: ignore[override]
        return caller_of(request.scope).require()


PASSWORD_GRANT = "oauth2Password"
signed_in = _SignedIn(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    scheme_name=PASSWORD_GRANT,
    description=(
        "Swagger UI's Authorize button: email (as `username`) and password through the OAuth2 "
        "password grant at `/api/v1/auth/token`; the access token it returns is then sent as "
        "a bearer token, exactly as `bearerAuth`."
    ),
)


async def maybe_signed_in(request: Request) -> Identity | None:
    """The caller if signed in, else None; credentials that were refused still fail."""
    return caller_of(request.scope).optional()


async def require_admin(identity: Annotated[Identity, Depends(signed_in)]) -> Identity:
    # The role claim is current: changing a role ends the user's sessions.
    if not identity.is_admin:
        raise Forbidden("Admins only")
    return identity


async def client_of(request: Request) -> Client:
    ip = request.client.host if request.client else "unknown"
    return Client(ip=ip, user_agent=request.headers.get("user-agent"))


async def cookies_for(request: Request) -> CookiePolicy:
    """The cookie policy for this request (``Secure`` follows its scheme under "auto")."""
    policy: CookiePolicy = request.app.state.services.cookies
    return policy.for_scheme(request.scope["scheme"])


def service(name: str) -> Any:
    """``Depends`` on the instance's service ``name`` (an attribute of ``Services``)."""

    async def provide(request: Request) -> Any:
        return getattr(request.app.state.services, name)

    provide.__name__ = f"{name}_service"
    return Depends(provide)


IdentityDep = Annotated[Identity, Depends(signed_in)]
MaybeIdentityDep = Annotated[Identity | None, Depends(maybe_signed_in)]
ClientDep = Annotated[Client, Depends(client_of)]
CookiesDep = Annotated[CookiePolicy, Depends(cookies_for)]
