"""HTTP endpoints of the account as a whole (``/api/v1/users/me``): password change,
leaving, the data export and the account's audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from maria.accounts.schemas import EXPORT_EXAMPLE
from maria.accounts.service import Accounts
from maria.audit.schemas import AuditPage
from maria.audit.service import AuditLog
from maria.auth.recovery import Recovery
from maria.auth.service import policy_refusal
from maria.errors import BadCursor, InvalidCredentials
from maria.fields import CURSOR_PATTERN
from maria.http.deps import ClientDep, CookiesDep, IdentityDep, service
from maria.http.openapi import doc
from maria.users.schemas import AccountDeletion, PasswordChange

router = APIRouter(prefix="/api/v1/users", tags=["users"])
RecoveryDep = Annotated[Recovery, service("recovery")]
AccountsDep = Annotated[Accounts, service("accounts")]
AuditDep = Annotated[AuditLog, service("audit")]
Cookies = CookiesDep  # Secure follows the request's scheme unless configured


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    **doc(
        "changePassword",
        "Change your password",
        InvalidCredentials("The current password is wrong"),
        policy_refusal("This password is too common; choose another", "new_password"),
    ),
)
async def change_password(
    body: PasswordChange, identity: IdentityDep, recovery: RecoveryDep, client: ClientDep
) -> Response:
    """Change the password (the current one is needed, unless the account has none yet);
    the other sessions end, this one stays, and a notice is mailed."""
    await recovery.change_password(identity, body.current_password, body.new_password, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    **doc("deleteMe", "Delete your account", InvalidCredentials("The password is wrong")),
)
async def delete_me(
    body: AccountDeletion,
    identity: IdentityDep,
    accounts: AccountsDep,
    cookies: Cookies,
    client: ClientDep,
) -> Response:
    """Delete the account and everything of it (lists, sessions, avatar, hosted rooms,
    chat messages, queued mail), confirmed by the password or, for an account without one,
    a fresh sign-in code. Its tokens are refused at once, on every instance."""
    await accounts.delete_own(identity, password=body.password, code=body.code, client=client)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    cookies.clear_session(response)
    return response


@router.get("/me/export", **doc("exportMe", "Download your data", example=EXPORT_EXAMPLE))
async def export_me(identity: IdentityDep, accounts: AccountsDep) -> dict[str, Any]:
    """Everything Maria holds about the caller, as one JSON document: the account, its
    sessions, lists and items, chat messages and audit events."""
    return await accounts.export(identity)


@router.get(
    "/me/audit",
    response_model=AuditPage,
    **doc("listMyAuditEvents", "List your account's audit events", BadCursor()),
)
async def my_audit(
    identity: IdentityDep,
    audit: AuditDep,
    cursor: Annotated[str | None, Query(max_length=200, pattern=CURSOR_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AuditPage:
    """What happened to the caller's account (sign-ins, password changes, …), newest first."""
    events, next_cursor = await audit.page(
        user_id=identity.user_id, event=None, cursor=cursor, limit=limit
    )
    return AuditPage.of(events, next_cursor)
