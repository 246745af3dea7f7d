"""Request and response bodies of the admin endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictBool

from maria import examples as ex
from maria.auth.views import SessionView
from maria.users.schemas import UserOut
from maria.users.views import UserView

ADMIN_VIEW = {**ex.USER, "disabled": False}


class AdminUserOut(UserOut):
    model_config = ConfigDict(json_schema_extra={"examples": [ADMIN_VIEW]})

    disabled: bool

    @classmethod
    def of(cls, user: UserView) -> AdminUserOut:
        return cls(**UserOut.of(user).model_dump(), disabled=user.disabled)


class AdminUserPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"disabled": True}, {"role": "admin"}]},
    )

    role: Literal["user", "admin"] | None = None
    disabled: StrictBool | None = None


class AdminUserPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [ADMIN_VIEW], "next_cursor": ex.CURSOR}]}
    )

    items: list[AdminUserOut]
    next_cursor: str | None


class AdminSessionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": ex.SESSION_ID,
                    "created_at": ex.CREATED_AT,
                    "last_used_at": ex.LATER,
                    "user_agent": ex.USER_AGENT,
                    "ip": ex.IP,
                }
            ]
        }
    )

    id: str
    created_at: datetime
    last_used_at: datetime
    user_agent: str | None
    ip: str | None

    @classmethod
    def of(cls, session: SessionView) -> AdminSessionOut:
        return cls(
            id=session.id,
            created_at=session.created_at,
            last_used_at=session.last_used_at,
            user_agent=session.user_agent,
            ip=session.ip,
        )
